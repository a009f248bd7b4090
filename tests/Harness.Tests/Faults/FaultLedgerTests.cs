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
}
