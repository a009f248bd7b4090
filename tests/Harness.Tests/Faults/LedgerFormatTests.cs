using Harness.Faults;
using Harness.Profiles;
using Harness.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Faults;

/// <summary>
/// The ledger is read by later runs, and by later harnesses: a ledger written by the harness of 2026-12-05 (before the
/// reverts became one reverter per kind) must still be read, described and healed the same way. The lines below are
/// what that harness's <see cref="FaultLedger"/> wrote, one entry per revert kind, byte for byte.
/// </summary>
public class LedgerFormatTests
{
    private const string WrittenOn20261205 = """
{"op":"open","id":"e1","at":"2026-12-05T20:49:55.0638963+00:00","entry":{"id":"e1","runId":"run-1","check":"Checks.Check","fault":"fault","node":"w1-k8s","injected":"inject","revert":{"kind":"NodeCommand","target":"w1-k8s","command":"systemctl start kubelet"},"injectedAt":"2026-12-05T20:01:00+00:00","host":"lab-host","pid":4242,"profile":"lab","clusterUid":"uid-1","clusterCa":"ca-1","hasIdentity":true}}
{"op":"open","id":"e2","at":"2026-12-05T20:49:55.0836681+00:00","entry":{"id":"e2","runId":"run-1","check":"Checks.Check","fault":"fault","node":"w2-k8s","injected":"inject","revert":{"kind":"NodeReboot","target":"w2-k8s","command":"modprobe br_netfilter"},"injectedAt":"2026-12-05T20:02:00+00:00","host":"lab-host","pid":4242,"hasIdentity":false}}
{"op":"open","id":"e3","at":"2026-12-05T20:49:55.0839151+00:00","entry":{"id":"e3","runId":"run-1","check":"Checks.Check","fault":"fault","node":"w3-k8s","injected":"inject","revert":{"kind":"Uncordon","target":"w3-k8s"},"injectedAt":"2026-12-05T20:03:00+00:00","host":"lab-host","pid":4242,"profile":"lab","clusterUid":"uid-1","clusterCa":"ca-1","hasIdentity":true}}
{"op":"open","id":"e4","at":"2026-12-05T20:49:55.0841279+00:00","entry":{"id":"e4","runId":"run-1","check":"Checks.Check","fault":"fault","node":"verification-drain","injected":"inject","revert":{"kind":"DeleteNamespace","target":"verification-drain"},"injectedAt":"2026-12-05T20:04:00+00:00","host":"lab-host","pid":4242,"hasIdentity":false}}
{"op":"open","id":"e5","at":"2026-12-05T20:49:55.0842843+00:00","entry":{"id":"e5","runId":"run-1","check":"Checks.Check","fault":"fault","node":"m-k8s","injected":"inject","revert":{"kind":"RestoreStaticPodManifest","target":"m-k8s","command":"mv /etc/kubernetes/parked/kube-apiserver.yaml /etc/kubernetes/manifests/","component":"kube-apiserver"},"injectedAt":"2026-12-05T20:05:00+00:00","host":"lab-host","pid":4242,"profile":"lab","clusterUid":"uid-1","clusterCa":"ca-1","hasIdentity":true}}
{"op":"open","id":"e6","at":"2026-12-05T20:49:55.0844467+00:00","entry":{"id":"e6","runId":"run-1","check":"Checks.Check","fault":"fault","node":"coredns","injected":"inject","revert":{"kind":"ScaleDeployment","target":"coredns","namespace":"kube-system","replicas":2},"injectedAt":"2026-12-05T20:06:00+00:00","host":"lab-host","pid":4242,"hasIdentity":false}}
{"op":"open","id":"e7","at":"2026-12-05T20:49:55.0851531+00:00","entry":{"id":"e7","runId":"run-1","check":"Checks.Check","fault":"fault","node":"w1-k8s","injected":"inject","revert":{"kind":"LetDaemonSetOnNode","target":"w1-k8s","component":"kube-proxy","namespace":"kube-system"},"injectedAt":"2026-12-05T20:07:00+00:00","host":"lab-host","pid":4242,"profile":"lab","clusterUid":"uid-1","clusterCa":"ca-1","hasIdentity":true}}
{"op":"close","id":"e3","at":"2026-12-05T20:49:55.0854426+00:00","outcome":"reverted at the end of the check"}
""";

    private static readonly string ProfilesDirectory = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles");

    private static FaultLedger LedgerOf(string text, TempLedger temp)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(temp.Path)!);
        File.WriteAllText(temp.Path, text.ReplaceLineEndings("\n") + "\n");
        return temp.Ledger;
    }

    [Test]
    public void A_ledger_written_before_the_reverts_became_one_class_per_kind_reads_back_as_the_same_reverts()
    {
        using var temp = new TempLedger();
        var open = LedgerOf(WrittenOn20261205, temp).OpenEntries();

        Assert.That(open.Select(e => e.Revert), Is.EqualTo(new[]
        {
            Revert.OnNode("w1-k8s", "systemctl start kubelet"),
            Revert.RebootNode("w2-k8s", "modprobe br_netfilter"),
            // e3 (uncordon) was closed
            Revert.DeleteNamespace("verification-drain"),
            Revert.RestoreStaticPod("m-k8s", "kube-apiserver", "mv /etc/kubernetes/parked/kube-apiserver.yaml /etc/kubernetes/manifests/"),
            Revert.ScaleDeploymentBack("kube-system", "coredns", 2),
            Revert.LetDaemonSetOn("w1-k8s", "kube-system", "kube-proxy"),
        }));
        Assert.That(open.Select(e => (e.Id, e.Profile, e.ClusterUid, e.ClusterCa)), Is.EqualTo(new (string, string?, string?, string?)[]
        {
            ("e1", "lab", "uid-1", "ca-1"), ("e2", null, null, null), ("e4", null, null, null),
            ("e5", "lab", "uid-1", "ca-1"), ("e6", null, null, null), ("e7", "lab", "uid-1", "ca-1"),
        }));
    }

    [Test]
    public void Each_kind_reads_as_it_did_and_needs_the_api_as_it_did()
    {
        using var temp = new TempLedger();
        var open = LedgerOf(WrittenOn20261205, temp).OpenEntries();

        Assert.That(open.Select(e => e.Revert.ToString()), Is.EqualTo(new[]
        {
            "on w1-k8s: systemctl start kubelet",
            "on w2-k8s: modprobe br_netfilter; reboot",
            "kubectl delete namespace verification-drain",
            "on m-k8s: mv /etc/kubernetes/parked/kube-apiserver.yaml /etc/kubernetes/manifests/ (kube-apiserver's manifest back)",
            "kubectl -n kube-system scale deployment coredns --replicas=2",
            "kubectl -n kube-system patch daemonset kube-proxy: remove the affinity that keeps it off w1-k8s",
        }));
        Assert.That(open.Select(e => e.Revert.NeedsApi), Is.EqualTo(new[] { false, true, true, false, true, true }));
    }

    [Test]
    public async Task A_later_run_heals_that_ledger_as_before_its_own_entries_and_old_ones_of_its_own_shape()
    {
        using var temp = new TempLedger();
        var ledger = LedgerOf(WrittenOn20261205, temp);
        var profile = ProfileLoader.Load("lab", ProfilesDirectory).WithWorkers(["w1-k8s", "w2-k8s", "w3-k8s"]);
        var identity = ClusterIdentity.Of(profile, "uid-1");
        var reverter = new FakeReverter();

        var pass = await Healing.HealAsync(reverter, ledger, identity, null, CancellationToken.None);

        // Its own (profile lab, cluster uid-1) and, of the entries without identity, the namespace of its own prefix;
        // the reboot's command is not one the lab profile registers and the scale-back has no identity: left alone.
        Assert.That(pass.Healed.Select(e => e.Id), Is.EqualTo(new[] { "e7", "e5", "e4", "e1" }), "newest first");
        Assert.That(pass.Steps.Where(s => s.Outcome == HealOutcome.LeftAlone).Select(s => s.Entry.Id), Is.EqualTo(new[] { "e6", "e2" }));
        Assert.That(ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "e2", "e6" }));
    }
}
