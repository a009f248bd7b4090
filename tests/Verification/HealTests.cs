using Harness.NUnitAdapter;
using Harness.Reporting;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// `./verify heal`: the suite's set-up reverts every fault an earlier run left in the ledger before anything else;
/// this check confirms nothing is left open and injects nothing itself.
/// </summary>
[TestFixture, Category("heal"), NonParallelizable]
public sealed class HealTests
{
    [Test]
    [Description("After the suite's set-up, the fault ledger has no open entry and the cluster is healthy.")]
    public async Task NoFaultIsLeftInTheLedger()
    {
        var report = AllureNUnitAttribute.ScopeOfRunningTest() ?? TestScope.NotRecorded();
        report.Step($"open entries in {Suite.Run.Ledger.Path}", () =>
        {
            var open = Suite.Run.Ledger.OpenEntries();
            report.Attach("open entries", string.Join("\n", open.Select(e => $"{e.Fault} on {e.Node}: {e.Revert}")));
            Assert.That(open, Is.Empty);
        });
        await report.Step("cluster as found: nodes Ready and schedulable, kubelet active, no leftovers", async () =>
        {
            var baseline = await Harness.Safety.ClusterBaseline.CheckAsync(Suite.Run.Cluster, namespaceGone: Suite.Run.Namespace, Suite.Run.Interrupted);
            Assert.That(baseline.Problems, Is.Empty);
        });
    }
}
