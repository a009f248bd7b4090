using Harness.Faults;
using Harness.Reporting;
using Harness.Tests.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Faults;

[NonParallelizable] // it points the process-wide AllureResults at its own folder
public class HealingTests
{
    private ResultsFolder _results = null!;
    private string _previousResults = null!;

    [SetUp]
    public void PointAllureAtATempFolder()
    {
        _results = new ResultsFolder();
        _previousResults = AllureResults.Directory;
        AllureResults.Directory = _results.Directory;
    }

    [TearDown]
    public void RestoreAllure()
    {
        AllureResults.Directory = _previousResults;
        _results.Dispose();
    }

    private static LedgerEntry Entry(string id, string node, Revert revert, int minutesAgo) =>
        new(id, "crashed-run", "KubeletTests.StopKubelet", "kubelet stopped", node, "systemctl stop kubelet",
            revert, DateTimeOffset.UtcNow.AddMinutes(-minutesAgo), "host", 4242);

    [Test]
    public async Task Faults_left_open_by_an_earlier_run_are_reverted_newest_first_closed_and_reported()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("old", "w1-k8s", Revert.OnNode("w1-k8s", "systemctl start kubelet"), minutesAgo: 5));
        ledger.Ledger.Open(Entry("new", "w2-k8s", Revert.UncordonNode("w2-k8s"), minutesAgo: 1));
        var reverter = new FakeReverter();

        var healed = await Healing.HealAsync(reverter, ledger.Ledger, CancellationToken.None);

        Assert.That(healed.Select(e => e.Id), Is.EquivalentTo(new[] { "old", "new" }));
        Assert.That(reverter.Reverted.Select(r => r.Target), Is.EqualTo(new[] { "w2-k8s", "w1-k8s" }));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
        var result = _results.Results()[Healing.CheckName];
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("passed"));
        Assert.That(result.GetProperty("steps").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task An_empty_ledger_heals_nothing_and_reports_nothing()
    {
        using var ledger = new TempLedger();

        var healed = await Healing.HealAsync(new FakeReverter(), ledger.Ledger, CancellationToken.None);

        Assert.That(healed, Is.Empty);
        Assert.That(_results.Results(), Is.Empty);
    }

    [Test]
    public async Task A_revert_that_fails_while_healing_stops_the_run_and_stays_open()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("stuck", "w1-k8s", Revert.OnNode("w1-k8s", "systemctl start kubelet"), minutesAgo: 2));
        ledger.Ledger.Open(Entry("fine", "w2-k8s", Revert.UncordonNode("w2-k8s"), minutesAgo: 1));
        var reverter = new FakeReverter { FailOn = { "w1-k8s" } };

        var e = (await Assert.ThrowsAsync<UnrevertedFaultException>(() => Healing.HealAsync(reverter, ledger.Ledger, CancellationToken.None)))!;

        Assert.That(e.Message, Does.StartWith("Unreverted fault").And.Contain("kubelet stopped on w1-k8s").And.Contain(ledger.Path));
        Assert.That(ledger.Ledger.OpenEntries().Select(o => o.Id), Is.EqualTo(new[] { "stuck" }));
        var result = _results.Results()[Healing.CheckName];
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("failed"));
        Assert.That(result.GetProperty("statusDetails").GetProperty("message").GetString(), Does.StartWith("Unreverted fault"));
    }
}
