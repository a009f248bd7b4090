using System.Diagnostics;
using Harness.Faults;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Tests.ClusterAccess;
using NUnit.Framework;

namespace Harness.Tests.Faults;

/// <summary>
/// The ledger on the control plane (<c>safety.ledger: controlPlane</c>): its commands run here by a stand-in node shell
/// (<see cref="LocalShell"/>, plain <c>sh</c> on this machine, no SSH), so the real <c>install</c>, <c>flock</c> and
/// <c>printf</c> decide; failures through <see cref="FakeNodeShell"/>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ControlPlaneLedgerStoreTests
{
    private string _temp = null!;
    private string StateDirectory => Path.Combine(_temp, "var", "lib", "verification");
    private string LedgerFile => Path.Combine(StateDirectory, ControlPlaneLedgerStore.FileName);

    [SetUp]
    public void MakeATempControlPlane() => _temp = Directory.CreateTempSubdirectory("cp-ledger-").FullName;

    [TearDown]
    public void Remove() => Directory.Delete(_temp, recursive: true);

    private FaultLedger Ledger(INodeShell shell) => new(new ControlPlaneLedgerStore(shell, StateDirectory, TimeSpan.FromSeconds(20)));

    private static LedgerEntry Entry(string id, string profile = "lab", string uid = "uid-lab", string command = "systemctl start kubelet") =>
        new(id, "run-1", "KubeletTests.StopKubelet", "kubelet stopped", "w1-k8s", "systemctl stop kubelet",
            Revert.OnNode("w1-k8s", command), DateTimeOffset.UtcNow, "runner-a", 4242, profile, uid, "ca-sha");

    [Test]
    public void Entries_are_appended_and_read_back_in_the_ledgers_own_format_in_a_root_only_folder()
    {
        var shell = new LocalShell("m-k8s");
        var ledger = Ledger(shell);
        Assert.That(ledger.OpenEntries(), Is.Empty, "no folder yet: an empty ledger, not an error");

        ledger.Open(Entry("a", command: "echo 'quoted' \"twice\" $HOME %s"));
        ledger.Open(Entry("b"));
        ledger.Close("b", "reverted at the end of the check");

        var open = ledger.OpenEntries().Single();
        Assert.That(open.Id, Is.EqualTo("a"));
        Assert.That(open.Revert.Command, Is.EqualTo("echo 'quoted' \"twice\" $HOME %s"), "quotes, $ and % reach the file as written");
        Assert.That(open.BelongsTo(new ClusterIdentity("lab", "uid-lab")), Is.True);
        Assert.That(ledger.Path, Is.EqualTo($"m-k8s:{LedgerFile}"));
        Assert.That(File.GetUnixFileMode(StateDirectory), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        Assert.That(File.GetUnixFileMode(LedgerFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        // The same JSON lines as the local ledger: a local FaultLedger reads the node's file as its own.
        Assert.That(new FaultLedger(LedgerFile).OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "a" }));
        Assert.That(shell.Commands, Has.All.Not.Contain("sudo"), "the node shell itself runs commands as root (sudo -n sh -c on the wire)");
    }

    [Test]
    public void A_folder_left_open_to_others_is_made_root_only_again_at_the_next_append()
    {
        Directory.CreateDirectory(StateDirectory);
        File.SetUnixFileMode(StateDirectory, (UnixFileMode)0b111_101_101);

        Ledger(new LocalShell("m-k8s")).Open(Entry("a"));

        Assert.That(File.GetUnixFileMode(StateDirectory), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
    }

    [Test]
    public void A_line_torn_by_a_crash_does_not_swallow_the_next_entry()
    {
        var ledger = Ledger(new LocalShell("m-k8s"));
        ledger.Open(Entry("a"));
        File.AppendAllText(LedgerFile, "{\"op\":\"open\",\"id\":\"torn");

        ledger.Open(Entry("b"));

        Assert.That(ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void Appends_at_once_from_two_ledgers_never_interleave()
    {
        // Two runs (say, two runners) append to the same node file at once; each line goes in whole under flock.
        var one = Ledger(new LocalShell("m-k8s"));
        var other = Ledger(new LocalShell("m-k8s"));
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => (i % 2 == 0 ? one : other).Open(Entry($"e{i}", command: new string('x', 3000))));

        Assert.That(one.OpenEntries(), Has.Count.EqualTo(16));
        Assert.That(File.ReadAllLines(LedgerFile), Has.Length.EqualTo(16).And.All.StartsWith("{").And.All.EndsWith("}"));
    }

    [Test]
    public async Task Healing_from_a_control_plane_shared_by_other_profiles_and_clusters_reverts_only_this_clusters_entries()
    {
        var ledger = Ledger(new LocalShell("m-k8s"));
        ledger.Open(Entry("ours"));
        ledger.Open(Entry("rebuilt-cluster", uid: "uid-before-kubeadm-reset"));
        ledger.Open(Entry("book-profile", profile: "book"));
        var reverter = new FakeReverter();

        var pass = await Healing.HealAsync(reverter, ledger, new ClusterIdentity("lab", "uid-lab"), null, default);

        Assert.That(pass.Healed.Select(e => e.Id), Is.EqualTo(new[] { "ours" }));
        Assert.That(reverter.Reverted, Has.Count.EqualTo(1));
        Assert.That(ledger.OpenEntries().Select(e => e.Id), Is.EquivalentTo(new[] { "rebuilt-cluster", "book-profile" }),
            "another cluster's or profile's entries stay open on the node for their own runs");
        Assert.That(pass.LedgerPath, Is.EqualTo($"m-k8s:{LedgerFile}"), "the report names where the ledger is");
    }

    [Test]
    public void A_failed_read_names_the_node_the_file_and_the_way_out()
    {
        var shell = new FakeNodeShell("m-k8s") { Answer = _ => (1, "", "sudo: a password is required") };

        var e = Assert.Throws<LedgerUnavailableException>(() => Ledger(shell).OpenEntries())!;

        Assert.That(e.Message, Does.Contain($"read the fault ledger on the control plane (m-k8s:{LedgerFile}")
            .And.Contain("sudo: a password is required").And.Contain("safety.ledger: local"));
    }

    [Test]
    public void A_control_plane_that_stopped_answering_fails_the_append_before_the_fault_is_injected()
    {
        var shell = new UnreachableShell("m-k8s");

        var e = Assert.Throws<LedgerUnavailableException>(() => Ledger(shell).Open(Entry("a")))!;

        Assert.That(e.Message, Does.Contain("append to the fault ledger on the control plane").And.Contain("Connection refused")
            .And.Contain("No fault is injected without its revert on record"));
    }

    [Test]
    public void The_profile_picks_the_store_and_the_shipped_profiles_keep_the_local_file()
    {
        var profiles = Path.Combine(Harness.Reporting.AllureResults.RepositoryRoot()!, "fixtures", "profiles");
        ClusterProfile Lab(Dictionary<string, string>? overrides = null) => ProfileLoader.Load("lab", profiles, overrides);

        foreach (var name in ProfileLoader.Available(profiles))
            Assert.That(ProfileLoader.Load(name, profiles).Safety.Ledger, Is.EqualTo(SafetySettings.LocalLedger), name);
        Assert.That(FaultLedger.For(Lab(), null).Path, Is.EqualTo(Lab().ResolvePath("~/.cache/verification/fault-ledger.jsonl")));
        Assert.That(FaultLedger.For(Lab(new() { ["safety.ledger"] = "controlPlane" }), new FakeNodeShell("m-k8s")).Path,
            Is.EqualTo("m-k8s:/var/lib/verification/fault-ledger.jsonl"));
        Assert.That(FaultLedger.For(Lab(new() { ["safety.ledger"] = "controlPlane", ["safety.controlPlaneStateDirectory"] = "/srv/verify/" }),
            new FakeNodeShell("m-k8s")).Path, Is.EqualTo("m-k8s:/srv/verify/fault-ledger.jsonl"));
    }

    /// <summary>A "node" that is this machine: each command runs in <c>sh -c</c> here, as the node's root would run it.</summary>
    private sealed class LocalShell(string name) : INodeShell
    {
        public string Name { get; } = name;
        public List<string> Commands { get; } = [];

        public async Task<CommandResult> RunAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default)
        {
            lock (Commands) Commands.Add(command);
            using var sh = Process.Start(new ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var stdout = sh.StandardOutput.ReadToEndAsync(ct);
            var stderr = sh.StandardError.ReadToEndAsync(ct);
            await sh.WaitForExitAsync(ct);
            return new CommandResult(Name, command, sh.ExitCode, await stdout, await stderr, TimeSpan.Zero);
        }

        public Task<CommandResult> RunAsLoginUserAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default) => RunAsync(command, timeout, ct);
        public Task StartDetachedAsync(string command, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<byte[]> DownloadAsync(string remotePath, CancellationToken ct = default) => throw new NotSupportedException();
        public Task UploadAsync(byte[] content, string remotePath, string mode = "0600", CancellationToken ct = default) => throw new NotSupportedException();
        public Task WaitUntilReachableAsync(TimeSpan deadline, CancellationToken ct = default) => Task.CompletedTask;
        public Task WaitUntilUnreachableAsync(TimeSpan deadline, CancellationToken ct = default) => Task.CompletedTask;
    }

    /// <summary>A node whose SSH stopped answering: every command fails to connect.</summary>
    private sealed class UnreachableShell(string name) : INodeShell
    {
        public string Name { get; } = name;
        private NodeUnreachableException Refused() => new($"{Name} (127.0.0.1:60010): Connection refused");
        public Task<CommandResult> RunAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default) => throw Refused();
        public Task<CommandResult> RunAsLoginUserAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default) => throw Refused();
        public Task StartDetachedAsync(string command, CancellationToken ct = default) => throw Refused();
        public Task<byte[]> DownloadAsync(string remotePath, CancellationToken ct = default) => throw Refused();
        public Task UploadAsync(byte[] content, string remotePath, string mode = "0600", CancellationToken ct = default) => throw Refused();
        public Task WaitUntilReachableAsync(TimeSpan deadline, CancellationToken ct = default) => throw Refused();
        public Task WaitUntilUnreachableAsync(TimeSpan deadline, CancellationToken ct = default) => Task.CompletedTask;
    }
}
