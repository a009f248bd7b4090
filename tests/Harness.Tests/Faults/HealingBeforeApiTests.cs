using System.Security.Cryptography;
using System.Text;
using Harness.Faults;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Tests.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Faults;

/// <summary>
/// Healing in two passes (issue 11): a run killed while the API server's manifest was away leaves a cluster no API
/// call can reach, so the next run first carries out the API-free reverts of its own cluster over SSH (the cluster
/// known by its CA, read from admin.conf), and only then reaches the API and heals the rest as before.
/// </summary>
public class HealingBeforeApiTests
{
    private static readonly string ProfilesDirectory = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles");
    private static readonly ClusterProfile LabProfile = ProfileLoader.Load("lab", ProfilesDirectory).WithWorkers(["w1-k8s", "w2-k8s", "w3-k8s"]);
    private const string LabCa = "5d1c0ffee0000000000000000000000000000000000000000000000000000001";
    private static readonly ClusterIdentity Lab = ClusterIdentity.Of(LabProfile, "uid-lab") with { CaFingerprint = LabCa };

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

    private static LedgerEntry Entry(string id, Revert revert, int minutesAgo, string? profile = "lab", string? uid = "uid-lab", string? ca = LabCa,
        string fault = "kube-apiserver stopped (manifest moved away)") =>
        new(id, "killed-run", "ApiServerTests.KubectlIsRefused", fault, revert.Target, "mv …", revert,
            DateTimeOffset.UtcNow.AddMinutes(-minutesAgo), "host-of-a-dead-run", 4242, profile, uid, ca);

    private static Revert ApiServerBack => StaticPod.Of(LabProfile, "kube-apiserver").Restore;

    /// <summary>The pass before the API as the suite runs it: the pass, its report, the stop if a revert failed.</summary>
    private async Task<IReadOnlyList<LedgerEntry>> HealBeforeApiAsync(IReverter reverter, FaultLedger ledger, string? ca = LabCa) =>
        Reported(await Healing.HealBeforeApiAsync(reverter, ledger, "lab", ca, _progress.Add, CancellationToken.None));

    private IReadOnlyList<LedgerEntry> Reported(HealingPass pass)
    {
        HealingReport.Write(pass, _results.Writer);
        pass.ThrowIfUnhealed();
        return pass.Healed;
    }

    [Test]
    public async Task The_api_servers_manifest_left_away_is_put_back_before_the_api_is_asked_and_reported_on_its_own()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("away", ApiServerBack, minutesAgo: 2));
        var reverter = new FakeReverter();

        var healed = await HealBeforeApiAsync(reverter, ledger.Ledger);

        Assert.That(healed.Select(e => e.Id), Is.EqualTo(new[] { "away" }));
        Assert.That(reverter.Reverted, Is.EqualTo(new[] { ApiServerBack }));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
        var result = _results.Results()[Healing.BeforeApiCheckName];
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("passed"));
        Assert.That(_results.Results().ContainsKey(Healing.CheckName), Is.False, "the pass with the API has not run yet");
    }

    [Test]
    public async Task Then_the_pass_with_the_api_heals_what_needs_it_and_the_order_is_api_free_first()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("away", ApiServerBack, minutesAgo: 3));
        ledger.Ledger.Open(Entry("namespace", Revert.DeleteNamespace("verification"), minutesAgo: 4, fault: "the suite's namespace"));
        ledger.Ledger.Open(Entry("kubelet", Revert.OnNode("w1-k8s", "systemctl start kubelet"), minutesAgo: 1, fault: "kubelet stopped"));
        var reverter = new FakeReverter();

        var first = await HealBeforeApiAsync(reverter, ledger.Ledger);
        Assert.That(first.Select(e => e.Id), Is.EquivalentTo(new[] { "away", "kubelet" }), "every API-free revert of this cluster, over SSH");
        Assert.That(ledger.Ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "namespace" }), "the namespace needs the API: left open");

        var second = Reported(await Healing.HealAsync(reverter, ledger.Ledger, Lab, _progress.Add, CancellationToken.None));

        Assert.That(second.Select(e => e.Id), Is.EqualTo(new[] { "namespace" }));
        Assert.That(reverter.Reverted.Select(r => r.Kind), Is.EqualTo(new[]
        {
            RevertKind.NodeCommand, RevertKind.RestoreStaticPodManifest, // newest first within the pass
            RevertKind.DeleteNamespace,
        }));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
    }

    [Test]
    public async Task Another_clusters_or_profiles_or_an_older_harnesss_entries_are_left_to_the_pass_with_the_api_without_a_word()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("rebuilt", ApiServerBack, minutesAgo: 9, ca: "ca-of-the-cluster-before-it-was-rebuilt"));
        ledger.Ledger.Open(Entry("book", ApiServerBack, minutesAgo: 8, profile: "book"));
        ledger.Ledger.Open(Entry("older", Revert.OnNode("w1-k8s", "systemctl start kubelet"), minutesAgo: 7, profile: null, uid: null, ca: null));
        var reverter = new FakeReverter();

        var healed = await HealBeforeApiAsync(reverter, ledger.Ledger);

        Assert.That(healed, Is.Empty);
        Assert.That(reverter.Reverted, Is.Empty);
        Assert.That(ledger.Ledger.OpenEntries(), Has.Count.EqualTo(3));
        Assert.That(_results.Results(), Is.Empty, "nothing to report: the pass with the API reports on each of them");
    }

    [Test]
    public async Task Without_a_ca_to_compare_nothing_is_healed_before_the_api()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("away", ApiServerBack, minutesAgo: 2));

        var healed = await HealBeforeApiAsync(new FakeReverter(), ledger.Ledger, ca: null);

        Assert.That(healed, Is.Empty);
        Assert.That(ledger.Ledger.OpenEntries(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_live_runs_component_fault_is_never_healed()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(new LedgerEntry("live", "running-run", "ApiServerTests.X", "kube-apiserver stopped", "m-k8s", "mv …", ApiServerBack,
            DateTimeOffset.UtcNow, Environment.MachineName, Environment.ProcessId, "lab", "uid-lab", LabCa));
        var reverter = new FakeReverter();

        var healed = await HealBeforeApiAsync(reverter, ledger.Ledger);

        Assert.That(healed, Is.Empty);
        Assert.That(reverter.Reverted, Is.Empty);
        Assert.That(_results.Results()[Healing.BeforeApiCheckName].GetProperty("status").GetString(), Is.EqualTo("skipped"));
    }

    [Test]
    public async Task A_manifest_that_cannot_be_put_back_stops_the_run_before_it_reaches_the_api()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("away", ApiServerBack, minutesAgo: 2));
        var reverter = new FakeReverter { FailOn = { "m-k8s" } };

        var e = await Assert.ThrowsAsync<UnrevertedFaultException>(() => HealBeforeApiAsync(reverter, ledger.Ledger));

        Assert.That(e!.Message, Does.StartWith("Unreverted fault").And.Contain("kube-apiserver stopped").And.Contain("./verify heal --forget"));
        Assert.That(ledger.Ledger.OpenEntries().Select(o => o.Id), Is.EqualTo(new[] { "away" }));
        Assert.That(_results.Results()[Healing.BeforeApiCheckName].GetProperty("status").GetString(), Is.EqualTo("failed"));
    }

    [Test]
    public void The_pass_with_the_api_leaves_a_component_entry_of_an_older_harness_alone() =>
        Assert.That(Healing.Decide(Entry("x", ApiServerBack, 1, profile: null, uid: null, ca: null), Lab), Is.EqualTo(Healing.Decision.LeaveToItsOwner),
            "no older harness wrote such an entry; one without identity is nobody's to heal");

    [Test]
    public void The_cluster_ca_is_the_sha256_of_the_pem_that_admin_conf_embeds_as_sha256sum_prints_it_for_ca_crt()
    {
        var pem = "-----BEGIN CERTIFICATE-----\nMIIC5zCCAc+gAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl\n-----END CERTIFICATE-----\n";
        var kubeconfig = $"""
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(pem))}
                server: https://192.168.1.10:6443
              name: kubernetes
            """;

        Assert.That(ClusterIdentity.CaFingerprintOf(kubeconfig), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(pem)))));
        Assert.That(ClusterIdentity.CaFingerprintOf("clusters:\n- cluster:\n    insecure-skip-tls-verify: true\n"), Is.Null);
        Assert.That(ClusterIdentity.CaFingerprintOf("    certificate-authority-data: not base64!\n"), Is.Null);
    }
}
