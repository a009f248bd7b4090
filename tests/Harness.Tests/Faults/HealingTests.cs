using System.Diagnostics;
using System.Text.Json;
using Harness.Faults;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Tests.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Faults;

public class HealingTests
{
    private static readonly string ProfilesDirectory = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles");
    // The workers as discovery finds them on the book's and the lab's Vagrantfile (N = 3).
    private static readonly string[] ThreeWorkers = ["w1-k8s", "w2-k8s", "w3-k8s"];
    private static readonly ClusterProfile LabProfile = ProfileLoader.Load("lab", ProfilesDirectory).WithWorkers(ThreeWorkers);
    private static readonly ClusterProfile BookProfile = ProfileLoader.Load("book", ProfilesDirectory).WithWorkers(ThreeWorkers);
    private const string LabUid = "0f1e2d3c-lab-kube-system";
    private static readonly ClusterIdentity Lab = ClusterIdentity.Of(LabProfile, LabUid);

    private ResultsFolder _results = null!;
    private readonly List<string> _progress = [];

    [SetUp]
    public void PointAllureAtATempFolder()
    {
        _results = new ResultsFolder();
        _progress.Clear();
    }

    [TearDown]
    public void RemoveResults() => _results.Dispose();

    /// <summary>Heals as the suite does: the pass, then its report, then the stop if a revert of this cluster failed.</summary>
    private async Task<IReadOnlyList<LedgerEntry>> HealAsync(IReverter reverter, FaultLedger ledger, ClusterIdentity? identity)
    {
        var pass = await Healing.HealAsync(reverter, ledger, identity, _progress.Add, CancellationToken.None);
        HealingReport.Write(pass, _results.Writer);
        pass.ThrowIfUnhealed();
        return pass.Healed;
    }

    /// <summary>An entry of a dead run (another host's pid), written by <paramref name="owner"/> (null: the old format).</summary>
    private static LedgerEntry Entry(string id, string node, Revert revert, int minutesAgo, ClusterIdentity? owner = null,
        string fault = "kubelet stopped") =>
        new(id, "crashed-run", "KubeletTests.StopKubelet", fault, node, "systemctl stop kubelet",
            revert, DateTimeOffset.UtcNow.AddMinutes(-minutesAgo), "host-of-a-dead-run", 4242, owner?.Profile, owner?.ClusterUid);

    private static Revert StartKubelet(string node) => Revert.OnNode(node, "systemctl start kubelet");

    private JsonElement HealResult() => _results.Results()[Healing.CheckName];

    private static List<(string Name, string Status, string? Message)> Steps(JsonElement result) =>
        result.GetProperty("steps").EnumerateArray().Select(s => (
            s.GetProperty("name").GetString()!,
            s.GetProperty("status").GetString()!,
            s.TryGetProperty("statusDetails", out var d) ? d.GetProperty("message").GetString() : null)).ToList();

    [Test]
    public async Task Faults_left_open_by_an_earlier_run_are_reverted_newest_first_closed_and_reported()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("old", "w1-k8s", StartKubelet("w1-k8s"), minutesAgo: 5, Lab));
        ledger.Ledger.Open(Entry("new", "w2-k8s", Revert.UncordonNode("w2-k8s"), minutesAgo: 1, Lab));
        var reverter = new FakeReverter();

        var healed = await HealAsync(reverter, ledger.Ledger, Lab);

        Assert.That(healed.Select(e => e.Id), Is.EquivalentTo(new[] { "old", "new" }));
        Assert.That(reverter.Reverted.Select(r => r.Target), Is.EqualTo(new[] { "w2-k8s", "w1-k8s" }));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
        var result = HealResult();
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("passed"));
        Assert.That(Steps(result).Select(s => s.Status), Is.EqualTo(new[] { "passed", "passed" }));
        Assert.That(_progress, Is.EqualTo(new[]
        {
            "healing: kubelet stopped on w2-k8s left by run crashed-run (KubeletTests.StopKubelet) — kubectl uncordon w2-k8s",
            "healing: kubelet stopped on w1-k8s left by run crashed-run (KubeletTests.StopKubelet) — on w1-k8s: systemctl start kubelet",
        }), "one line per entry, to the progress sink it was given");
    }

    [Test]
    public async Task An_empty_ledger_heals_nothing_and_reports_nothing()
    {
        using var ledger = new TempLedger();

        var healed = await HealAsync(new FakeReverter(), ledger.Ledger, Lab);

        Assert.That(healed, Is.Empty);
        Assert.That(_results.Results(), Is.Empty);
    }

    [Test]
    public async Task A_revert_of_our_own_that_fails_while_healing_stops_the_run_stays_open_and_says_how_to_forget_it()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("stuck", "w1-k8s", StartKubelet("w1-k8s"), minutesAgo: 2, Lab));
        ledger.Ledger.Open(Entry("fine", "w2-k8s", Revert.UncordonNode("w2-k8s"), minutesAgo: 1, Lab));
        var reverter = new FakeReverter { FailOn = { "w1-k8s" } };

        var e = (await Assert.ThrowsAsync<UnrevertedFaultException>(() => HealAsync(reverter, ledger.Ledger, Lab)))!;

        Assert.That(e.Message, Does.StartWith("Unreverted fault").And.Contain("kubelet stopped on w1-k8s").And.Contain(ledger.Path)
            .And.Contain("ledger entry stuck").And.Contain("./verify heal --forget"));
        Assert.That(ledger.Ledger.OpenEntries().Select(o => o.Id), Is.EqualTo(new[] { "stuck" }));
        var result = HealResult();
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("failed"));
        Assert.That(result.GetProperty("statusDetails").GetProperty("message").GetString(), Does.StartWith("Unreverted fault"));
    }

    /// <summary>The story of issue 8: the book profile pointed at the lab left `modprobe br_netfilter; reboot` open.</summary>
    [Test]
    public async Task Another_profiles_entry_on_the_same_cluster_is_left_open_reported_as_skipped_and_does_not_block_the_run()
    {
        using var ledger = new TempLedger();
        var bookOnTheLab = ClusterIdentity.Of(BookProfile, LabUid);
        ledger.Ledger.Open(Entry("book-s3", "w1-k8s", Revert.RebootNode("w1-k8s", "modprobe br_netfilter"), minutesAgo: 30, bookOnTheLab,
            fault: "pod network broken"));
        ledger.Ledger.Open(Entry("lab-s2", "w2-k8s", StartKubelet("w2-k8s"), minutesAgo: 10, Lab));
        var reverter = new FakeReverter { FailOn = { "w1-k8s" } }; // as on the lab: the book's revert cannot work there

        var healed = await HealAsync(reverter, ledger.Ledger, Lab);

        Assert.That(healed.Select(h => h.Id), Is.EqualTo(new[] { "lab-s2" }));
        Assert.That(reverter.Reverted, Is.EqualTo(new[] { StartKubelet("w2-k8s") }), "the book's revert was not even tried");
        Assert.That(ledger.Ledger.OpenEntries().Select(o => o.Id), Is.EqualTo(new[] { "book-s3" }), "left for its own profile");
        var result = HealResult();
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("passed"));
        var skipped = Steps(result).Single(s => s.Status == "skipped");
        Assert.That(skipped.Name, Does.Contain("modprobe br_netfilter").And.Contain("book-s3"));
        Assert.That(skipped.Message, Does.Contain("injected by profile book, not lab")
            .And.Contain("./verify --profile book heal").And.Contain("./verify heal --forget book-s3"));
        Assert.That(result.GetProperty("statusDetails").GetProperty("message").GetString(), Does.Contain("left 1 entry of other runs alone"));
    }

    [Test]
    public async Task Only_entries_of_other_runs_give_a_skipped_result_and_no_exception()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("book-s2", "w1-k8s", StartKubelet("w1-k8s"), minutesAgo: 3, ClusterIdentity.Of(BookProfile, "uid-of-the-book-vms")));

        var healed = await HealAsync(new FakeReverter(), ledger.Ledger, Lab);

        Assert.That(healed, Is.Empty);
        Assert.That(HealResult().GetProperty("status").GetString(), Is.EqualTo("skipped"));
        Assert.That(HealResult().GetProperty("statusDetails").GetProperty("message").GetString(), Does.StartWith("nothing of this cluster to heal"));
    }

    [Test]
    public async Task An_entry_of_the_same_profile_on_another_cluster_is_left_alone()
    {
        using var ledger = new TempLedger();
        // The lab was torn down and built anew after the run died: a new kube-system, nothing of the old cluster to heal.
        ledger.Ledger.Open(Entry("old-lab", "w1-k8s", StartKubelet("w1-k8s"), minutesAgo: 60, ClusterIdentity.Of(LabProfile, "uid-of-the-old-lab")));
        var reverter = new FakeReverter();

        await HealAsync(reverter, ledger.Ledger, Lab);

        Assert.That(reverter.Reverted, Is.Empty);
        Assert.That(Steps(HealResult()).Single().Message, Does.Contain("another cluster").And.Contain("uid-of-the-old-lab")
            .And.Contain("./verify heal --forget old-lab"));
    }

    [Test]
    public async Task An_entry_of_a_run_that_is_still_alive_is_never_healed()
    {
        using var ledger = new TempLedger();
        // This test process stands in for the live run: same host, its pid alive, started before the entry was written.
        var live = new LedgerEntry("live", "running-run", "KubeletTests.StopKubelet", "kubelet stopped", "w1-k8s", "systemctl stop kubelet",
            StartKubelet("w1-k8s"), DateTimeOffset.UtcNow, Environment.MachineName, Environment.ProcessId, Lab.Profile, Lab.ClusterUid);
        ledger.Ledger.Open(live);
        var reverter = new FakeReverter();

        var healed = await HealAsync(reverter, ledger.Ledger, Lab);

        Assert.That(healed, Is.Empty);
        Assert.That(reverter.Reverted, Is.Empty);
        Assert.That(ledger.Ledger.OpenEntries().Select(o => o.Id), Is.EqualTo(new[] { "live" }));
        Assert.That(Steps(HealResult()).Single().Message, Does.Contain($"pid {Environment.ProcessId}").And.Contain("still running"));
    }

    [Test]
    public async Task An_entry_whose_pid_now_belongs_to_a_younger_process_is_healed()
    {
        using var ledger = new TempLedger();
        // Same host and a live pid, but that process started long after the entry was written: the pid was reused.
        var processStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var reused = new LedgerEntry("reused", "dead-run", "KubeletTests.StopKubelet", "kubelet stopped", "w1-k8s", "systemctl stop kubelet",
            StartKubelet("w1-k8s"), processStarted.AddHours(-1), Environment.MachineName, Environment.ProcessId, Lab.Profile, Lab.ClusterUid);
        ledger.Ledger.Open(reused);
        var reverter = new FakeReverter();

        var healed = await HealAsync(reverter, ledger.Ledger, Lab);

        Assert.That(healed.Select(h => h.Id), Is.EqualTo(new[] { "reused" }));
    }

    [TestCase("systemctl start kubelet", "w1-k8s", true, TestName = "Old entry: the profile's own startKubelet on its node is healed")]
    [TestCase("sysctl -w net.ipv4.ip_forward=1", "w2-k8s", true, TestName = "Old entry: the profile's own restorePodNetwork on its node is healed")]
    [TestCase("modprobe br_netfilter", "w1-k8s", false, TestName = "Old entry: another OS's command (the book's modprobe on the lab) is left alone")]
    [TestCase("systemctl start kubelet", "cp-k8s", false, TestName = "Old entry: a node the profile does not have is left alone")]
    public async Task Old_entries_without_identity_are_healed_only_when_the_profile_would_have_registered_them(string command, string node, bool healedExpected)
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("old", node, Revert.OnNode(node, command), minutesAgo: 5, owner: null));
        var reverter = new FakeReverter();

        var healed = await HealAsync(reverter, ledger.Ledger, Lab);

        Assert.That(healed.Count, Is.EqualTo(healedExpected ? 1 : 0));
        Assert.That(reverter.Reverted.Count, Is.EqualTo(healedExpected ? 1 : 0));
        if (!healedExpected)
            Assert.That(Steps(HealResult()).Single().Message, Does.Contain("older harness").And.Contain("./verify heal --forget old"));
    }

    [Test]
    public void Old_entries_reboot_uncordon_and_namespace_follow_the_same_rule()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Healing.Decide(Entry("a", "w1-k8s", Revert.RebootNode("w1-k8s", "sysctl -w net.ipv4.ip_forward=1"), 1), Lab),
                Is.EqualTo(Healing.Decision.Heal));
            Assert.That(Healing.Decide(Entry("b", "w1-k8s", Revert.RebootNode("w1-k8s", "modprobe br_netfilter"), 1), Lab),
                Is.EqualTo(Healing.Decision.LeaveToItsOwner));
            Assert.That(Healing.Decide(Entry("c", "w3-k8s", Revert.RebootNode("w3-k8s"), 1), Lab), Is.EqualTo(Healing.Decision.Heal));
            Assert.That(Healing.Decide(Entry("d", "w3-k8s", Revert.UncordonNode("w3-k8s"), 1), Lab), Is.EqualTo(Healing.Decision.Heal));
            Assert.That(Healing.Decide(Entry("e", "verification", Revert.DeleteNamespace("verification"), 1), Lab), Is.EqualTo(Healing.Decision.Heal));
            Assert.That(Healing.Decide(Entry("f", "kube-system", Revert.DeleteNamespace("kube-system"), 1), Lab),
                Is.EqualTo(Healing.Decision.LeaveToItsOwner), "only the profile's own namespace is ever deleted");
        });
    }
}
