using Harness.Faults;
using NUnit.Framework;

namespace Harness.Tests.Faults;

public class FaultLedgerTests
{
    private static LedgerEntry Entry(string id, string node, int minutesAgo = 0) =>
        new(id, "run-0", "KubeletTests.StopKubelet", "kubelet stopped", node, "systemctl stop kubelet",
            Revert.OnNode(node, "systemctl start kubelet"), DateTimeOffset.UtcNow.AddMinutes(-minutesAgo), "host", 4242);

    [Test]
    public void Open_entries_are_those_without_a_close_line_oldest_first()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("a", "w1-k8s", minutesAgo: 1));
        ledger.Ledger.Open(Entry("b", "w2-k8s", minutesAgo: 3));
        ledger.Ledger.Open(Entry("c", "w3-k8s", minutesAgo: 2));
        ledger.Ledger.Close("a", "reverted");

        var open = new FaultLedger(ledger.Path).OpenEntries();

        Assert.That(open.Select(e => e.Id), Is.EqualTo(new[] { "b", "c" }));
        Assert.That(open[0].Revert, Is.EqualTo(Revert.OnNode("w2-k8s", "systemctl start kubelet")), "the revert survives the round trip");
    }

    [Test]
    public void A_missing_ledger_has_no_open_entry() =>
        Assert.That(new FaultLedger(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "none.jsonl")).OpenEntries(), Is.Empty);

    [Test]
    public void A_line_torn_by_a_crash_is_ignored_and_later_lines_still_count()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("a", "w1-k8s"));
        File.AppendAllText(ledger.Path, "{\"op\":\"open\",\"id\":\"torn\",\"entry\":{\"id\":\"torn\",\"node\":\"w2"); // SIGKILL mid-write

        Assert.That(ledger.Ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "a" }));

        // The next run appends after the torn fragment: its lines must not be glued to it.
        ledger.Ledger.Open(Entry("b", "w3-k8s"));
        ledger.Ledger.Close("a", "healed");

        Assert.That(ledger.Ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void An_entry_keeps_its_profile_and_cluster_identity()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("a", "w1-k8s") with { Profile = "book", ClusterUid = "uid-1" });

        var entry = new FaultLedger(ledger.Path).OpenEntries().Single();

        Assert.That((entry.Profile, entry.ClusterUid), Is.EqualTo(("book", "uid-1")));
        Assert.That(entry.BelongsTo(new ClusterIdentity("book", "uid-1")), Is.True);
        Assert.That(entry.BelongsTo(new ClusterIdentity("lab", "uid-1")), Is.False);
        Assert.That(entry.BelongsTo(new ClusterIdentity("book", "uid-2")), Is.False);
    }

    [Test]
    public void An_entry_written_before_entries_had_an_identity_is_still_read()
    {
        using var ledger = new TempLedger();
        // A line exactly as the harness wrote it before profile and clusterUid existed.
        Directory.CreateDirectory(Path.GetDirectoryName(ledger.Path)!);
        File.WriteAllText(ledger.Path,
            """{"op":"open","id":"old1","at":"2026-11-29T21:14:03.1+00:00","entry":{"id":"old1","runId":"20261129T211200Z-812","check":"Verification.KubeProxyTests.X","fault":"pod network broken","node":"w1-k8s","injected":"modprobe -r br_netfilter \u0026\u0026 systemctl restart network","revert":{"kind":"NodeReboot","target":"w1-k8s","command":"modprobe br_netfilter"},"injectedAt":"2026-11-29T21:14:03.1+00:00","host":"lab-box","pid":812}}""" + "\n");

        var entry = ledger.Ledger.OpenEntries().Single();

        Assert.That(entry.Id, Is.EqualTo("old1"));
        Assert.That(entry.Revert, Is.EqualTo(Revert.RebootNode("w1-k8s", "modprobe br_netfilter")));
        Assert.That(entry.HasIdentity, Is.False);
        Assert.That(entry.Describe(), Does.Contain("no profile or cluster recorded"));
    }

    [Test]
    public void Forget_closes_an_entry_with_the_outcome_that_says_a_user_repaired_it()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("a", "w1-k8s"));
        ledger.Ledger.Open(Entry("b", "w2-k8s"));

        ledger.Ledger.Forget("a");

        Assert.That(ledger.Ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "b" }));
        var close = ledger.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.That(close, Does.Contain("\"op\":\"close\"").And.Contain("\"id\":\"a\"")
            .And.Contain("forgotten: repaired by hand (user said so)"));
    }

    [Test]
    public void A_profiles_open_entries_are_its_own_and_those_without_a_profile()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("lab", "w1-k8s") with { Profile = "lab", ClusterUid = "uid-lab" });
        ledger.Ledger.Open(Entry("book", "w1-k8s") with { Profile = "book", ClusterUid = "uid-lab" });
        ledger.Ledger.Open(Entry("old", "w2-k8s"));

        Assert.That(ledger.Ledger.OpenEntriesOf("lab").Select(e => e.Id), Is.EquivalentTo(new[] { "lab", "old" }));
        Assert.That(ledger.Ledger.OpenEntriesOf("book").Select(e => e.Id), Is.EquivalentTo(new[] { "book", "old" }));
    }

    [Test]
    public void Identities_are_equal_by_profile_and_cluster_only()
    {
        var profile = Harness.Profiles.ProfileLoader.Load("lab", Path.Combine(Harness.Reporting.AllureResults.RepositoryRoot()!, "fixtures", "profiles"));

        Assert.That(ClusterIdentity.Of(profile, "uid-1"), Is.EqualTo(new ClusterIdentity("lab", "uid-1")));
        Assert.That(ClusterIdentity.Of(profile, "uid-1"), Is.Not.EqualTo(new ClusterIdentity("lab", "uid-2")));
        Assert.That(ClusterIdentity.Of(profile, "uid-1").OwnRevertCommands,
            Is.EquivalentTo(new[] { "systemctl start kubelet", "sysctl -w net.ipv4.ip_forward=1" }));
    }
}
