using Harness.ClusterAccess;
using Harness.Faults;
using Harness.IntegrationTests.Support;
using Harness.Profiles;
using NUnit.Framework;
using VersionGate;

namespace Harness.IntegrationTests.Faults;

/// <summary>
/// <c>safety.ledger: controlPlane</c> end to end over a real sshd on loopback (the "control plane", logged in to as a
/// user with passwordless sudo, as the book's vagrant user is): a run from one checkout opens an entry in the ledger on
/// the node and dies; a run from another checkout — its own cache folder, known-hosts file and local ledger file —
/// finds the entry on the node side, heals it over SSH and closes it.
/// </summary>
[TestFixture]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ControlPlaneLedgerOverSshTests
{
    private SshdServer _sshd = null!;
    private string _temp = null!;

    /// <summary>Stands in for /var/lib/verification on the control plane.</summary>
    private string StateDirectory => Path.Combine(_temp, "node", "var-lib-verification");
    private string NodeLedger => Path.Combine(StateDirectory, ControlPlaneLedgerStore.FileName);
    /// <summary>What the fault breaks on the "worker": a file that must not be there.</summary>
    private string Broken => Path.Combine(_temp, "node", "kubelet-stopped");
    private string Kubeconfig => Path.Combine(_temp, "node", "admin.conf");
    private const string ClusterUid = "5b1f3c2e-kube-system";
    private const string PasswordVariable = "CONTROL_PLANE_LEDGER_TEST_PASSWORD";

    [OneTimeSetUp]
    public async Task StartSshd()
    {
        _sshd = await SshdServer.StartAsync();
        // The sudo user logs in with its password, as the book's vagrant user may (sshd reads the shared key file as root only).
        Environment.SetEnvironmentVariable(PasswordVariable, _sshd.SudoUser.Password);
    }

    [OneTimeTearDown]
    public async Task StopSshd()
    {
        Environment.SetEnvironmentVariable(PasswordVariable, null);
        if (_sshd is not null) await _sshd.DisposeAsync();
    }

    [SetUp]
    public void MakeAControlPlane()
    {
        _temp = Directory.CreateTempSubdirectory("cp-ledger-ssh-").FullName;
        Directory.CreateDirectory(Path.Combine(_temp, "node"));
        UnreachableApiKubeconfig.Write(Kubeconfig, "this cluster's CA");
    }

    [TearDown]
    public void RemoveTemp() => Directory.Delete(_temp, recursive: true);

    /// <summary>The lab profile as one checkout has it: its own cache folder for host keys and the local ledger file.</summary>
    private ClusterProfile ProfileOfCheckout(string checkout, int? port = null)
    {
        var cache = Path.Combine(_temp, checkout, ".cache", "verification");
        var path = Path.Combine(_temp, checkout, "lab.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $$"""
            name: lab
            discovery:
              mode: static
              nodes:
                - {name: m-k8s, host: 127.0.0.1, port: {{port ?? _sshd.Port}}}
                - {name: w1-k8s, host: 127.0.0.1, port: {{port ?? _sshd.Port}}}
            login:
              user: {{_sshd.SudoUser.Name}}
              privateKey: none
              passwordVariable: {{PasswordVariable}}
              knownHostsFile: {{Path.Combine(cache, "known_hosts-lab.json")}}
            controlPlane: m-k8s
            workers: [w1-k8s]
            kubernetes:
              adminKubeconfig: {{Kubeconfig}}
            timeouts:
              connectSeconds: 5
            safety:
              ledgerFile: {{Path.Combine(cache, "fault-ledger.jsonl")}}
              ledger: controlPlane
              controlPlaneStateDirectory: {{StateDirectory}}

            """);
        return ProfileLoader.Load(path, Path.Combine(_temp, checkout));
    }

    private Fault StopKubelet() => Fault.OnNode("kubelet stopped", "w1-k8s", $"touch {Broken}", Revert.OnNode("w1-k8s", $"rm -f {Broken}"));

    [Test]
    public async Task A_run_killed_in_one_checkout_is_healed_from_the_control_planes_ledger_by_a_run_from_another()
    {
        // Checkout A: inject with the revert on record on the node, then die (nothing closed, nothing reverted).
        var profileA = ProfileOfCheckout("checkout-a");
        var policy = new FaultPolicy(new HashSet<string> { "w1-k8s" }, DryRun: false);
        LedgerEntry left;
        await using (var runA = await NodeAccess.ConnectAsync(profileA, null, default))
        {
            var ledgerA = FaultLedger.For(runA.Profile, runA.ControlPlane);
            var identity = new ClusterIdentity("lab", ClusterUid) { CaFingerprint = runA.CaFingerprint };
            var scope = new FaultScope(ledgerA, runA, policy, "run-of-checkout-a", "KubeletTests.StopKubelet", identity: identity);
            await scope.InjectAsync(StopKubelet(), async t => (await runA.Node("w1-k8s").RunAsync(StopKubelet().Command, ct: t)).EnsureSuccess(), default);
            left = ledgerA.OpenEntries().Single();
            // SIGKILL here: the scope is never disposed. The entry is this test process's; make its pid a dead one's,
            // as a killed run's is (same machine, another checkout).
            ledgerA.Close(left.Id, "test: replaced by the same entry of a dead process");
            ledgerA.Open(left = left with { Pid = await DeadPidAsync() });
            // Another cluster behind the same control plane address (rebuilt since): not ours to heal.
            ledgerA.Open(left with { Id = "other-cluster", ClusterUid = "uid-before-kubeadm-reset", ClusterCa = "another-ca" });
        }
        Assert.That(File.Exists(Broken), Is.True, "the fault is in place");
        Assert.That(File.Exists(profileA.ResolvePath(profileA.Safety.LedgerFile)), Is.False, "nothing in checkout A's local ledger file");
        Assert.That(File.GetUnixFileMode(StateDirectory), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute), "root-only");
        Assert.That(await OwnerAsync(StateDirectory), Is.EqualTo("root"), $"made through sudo, not as {_sshd.SudoUser.Name}");
        Assert.That(File.ReadAllText(NodeLedger), Does.Contain("\"id\":\"" + left.Id + "\""));

        // Checkout B: a fresh clone with its own cache (its host keys pinned on first contact, an empty local ledger).
        var profileB = ProfileOfCheckout("checkout-b");
        await using var runB = await NodeAccess.ConnectAsync(profileB, null, default);
        var ledgerB = FaultLedger.For(runB.Profile, runB.ControlPlane);
        Assert.That(ledgerB.OpenEntries().Select(e => e.Id), Is.EquivalentTo(new[] { left.Id, "other-cluster" }), "read from the node's side");

        var beforeApi = await Healing.HealBeforeApiAsync(runB, ledgerB, "lab", runB.CaFingerprint, null, default);
        beforeApi.ThrowIfUnhealed();
        var afterLease = await Healing.HealAsync(runB, ledgerB, new ClusterIdentity("lab", ClusterUid), null, default);
        afterLease.ThrowIfUnhealed();

        Assert.That(beforeApi.Healed.Select(e => e.Id), Is.EqualTo(new[] { left.Id }), "its API-free revert, before the API is asked");
        Assert.That(File.Exists(Broken), Is.False, "the revert ran over SSH");
        Assert.That(ledgerB.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "other-cluster" }), "closed on the node; the other cluster's stays");
        Assert.That(afterLease.Steps.Single().Message, Does.Contain("injected into another cluster"));
        Assert.That(File.ReadLines(NodeLedger).Last(), Does.Contain("\"op\":\"close\"").And.Contain("healed by a later run"));
        Assert.That(File.Exists(profileB.ResolvePath(profileB.Safety.LedgerFile)), Is.False, "nothing in checkout B's local ledger file");
    }

    [Test]
    public async Task Heal_list_and_forget_read_and_close_the_control_planes_ledger()
    {
        var profile = ProfileOfCheckout("checkout-a");
        await using (var opened = await ProfileLedger.OpenAsync(profile, null, default))
            opened.Ledger.Open(new LedgerEntry("3f2a9c0d11", "run-1", "KubeletTests.StopKubelet", "kubelet stopped", "w1-k8s", "touch x",
                Revert.OnNode("w1-k8s", "rm -f x"), DateTimeOffset.UtcNow, "runner-elsewhere", 4242, "lab", ClusterUid));
        var (stdout, stderr) = (new StringWriter(), new StringWriter());

        var listed = await LedgerCommand.RunAsync(["list", "--profile", profile.SourcePath], stdout, stderr, repositoryRoot: _temp);
        var forgotten = await LedgerCommand.RunAsync(["forget", "3f2a", "--profile", profile.SourcePath, "--results", Path.Combine(_temp, "results")],
            stdout, stderr, repositoryRoot: _temp);

        Assert.That((listed, forgotten), Is.EqualTo((LedgerCommand.Done, LedgerCommand.Done)), stderr.ToString());
        Assert.That(stdout.ToString(), Does.Contain($"heal: ledger m-k8s:{NodeLedger}: 1 entry open").And.Contain("3f2a9c0d11: kubelet stopped on w1-k8s"));
        Assert.That(File.ReadLines(NodeLedger).Last(), Does.Contain(FaultLedger.ForgottenOutcome));
    }

    [Test]
    public async Task A_control_plane_that_does_not_answer_ssh_is_one_message_naming_the_ledger_setting()
    {
        var profile = ProfileOfCheckout("checkout-a", port: SshdServer.FreePort());
        var (stdout, stderr) = (new StringWriter(), new StringWriter());

        var exit = await LedgerCommand.RunAsync(["list", "--profile", profile.SourcePath], stdout, stderr, repositoryRoot: _temp);

        Assert.That(exit, Is.EqualTo(LedgerCommand.Unreachable));
        Assert.That(stderr.ToString(), Does.Contain("whose fault ledger is on the control plane (safety.ledger: controlPlane)")
            .And.Contain("m-k8s"));
        Assert.That(stderr.ToString().Trim().Split('\n'), Has.Length.EqualTo(1), "one message, no stack trace");
    }

    private static async Task<string> OwnerAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%U", path]) { RedirectStandardOutput = true })!;
        var owner = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return owner.Trim();
    }

    /// <summary>The pid of a process that has ended on this machine.</summary>
    private static async Task<int> DeadPidAsync()
    {
        using var process = System.Diagnostics.Process.Start("true")!;
        await process.WaitForExitAsync();
        return process.Id;
    }
}
