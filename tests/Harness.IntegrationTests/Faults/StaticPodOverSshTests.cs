using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Kube;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Tests.Reporting;
using Harness.IntegrationTests.Support;
using NUnit.Framework;

namespace Harness.IntegrationTests.Faults;

/// <summary>
/// The API server's manifest away, end to end over a real sshd on loopback (the "control plane"): a folder stands in
/// for /etc/kubernetes, admin.conf points at an API that is not there. The next run reaches the nodes without the API,
/// recognises its cluster by the CA in admin.conf, puts the manifest back over SSH, and only then asks the API.
/// </summary>
[TestFixture]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StaticPodOverSshTests
{
    private SshdServer _sshd = null!;
    private string _temp = null!;
    private ResultsFolder _results = null!;

    private string Manifests => Path.Combine(_temp, "manifests");
    private string Parked => Path.Combine(_temp, "verification-parked");
    private string Manifest => Path.Combine(Manifests, "kube-apiserver.yaml");
    private string Kubeconfig => Path.Combine(_temp, "admin.conf");
    private string LedgerPath => Path.Combine(_temp, "ledger", "fault-ledger.jsonl");

    [OneTimeSetUp]
    public async Task StartSshd() => _sshd = await SshdServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopSshd()
    {
        if (_sshd is not null) await _sshd.DisposeAsync();
    }

    [SetUp]
    public void MakeAControlPlane()
    {
        _temp = Directory.CreateTempSubdirectory("static-pod-ssh-").FullName;
        _results = new ResultsFolder();
        Directory.CreateDirectory(Manifests);
        File.WriteAllText(Manifest, "# kube-apiserver\n");
        File.WriteAllText(Path.Combine(Manifests, "etcd.yaml"), "# etcd\n");
        UnreachableApiKubeconfig.Write(Kubeconfig, "test CA");
    }

    [TearDown]
    public void RemoveTemp()
    {
        _results.Dispose();
        Directory.Delete(_temp, recursive: true);
    }

    private ClusterProfile Profile()
    {
        File.WriteAllText(Path.Combine(_temp, "lab.yaml"), ProfileYaml());
        return ProfileLoader.Parse(ProfileYaml(), Path.Combine(_temp, "lab.yaml"));
    }

    private string ProfileYaml() => $$"""
        name: lab
        discovery:
          mode: static
          nodes:
            - {name: m-k8s, host: 127.0.0.1, port: {{_sshd.Port}}}
            - {name: w1-k8s, host: 127.0.0.1, port: {{_sshd.Port}}}
        login:
          user: root
          privateKey: {{_sshd.UserKeyPath}}
          knownHostsFile: {{Path.Combine(_temp, "known_hosts.json")}}
        controlPlane: m-k8s
        workers: [w1-k8s]
        kubernetes:
          adminKubeconfig: {{Kubeconfig}}
        timeouts:
          connectSeconds: 5
          controlPlaneRestartSeconds: 10
        components:
          manifestsDirectory: {{Manifests}}
          parkedManifestsDirectory: {{Parked}}
          health:
            # "serving" here: its manifest is in kubelet's folder (no kubelet on loopback)
            kube-apiserver: test -f {{Manifest}}
        safety:
          ledgerFile: {{LedgerPath}}

        """;

    [Test]
    public async Task A_run_killed_with_the_api_servers_manifest_away_is_healed_over_ssh_before_the_api_is_asked()
    {
        var profile = Profile();
        var apiServer = StaticPod.Of(profile, "kube-apiserver");
        var ledger = new FaultLedger(LedgerPath);

        // What the killed run left: the manifest parked, the ledger entry open, with the cluster's CA.
        string? ca;
        await using (var killedRun = await NodeAccess.ConnectAsync(profile, null, default))
        {
            ca = killedRun.CaFingerprint;
            var identity = new Harness.Faults.ClusterIdentity("lab", "uid-lab") { CaFingerprint = ca };
            var policy = new FaultPolicy(new HashSet<string> { "w1-k8s" }, false, new HashSet<string> { "kube-apiserver" }, "m-k8s");
            var scope = new FaultScope(ledger, killedRun, policy, "killed-run", "ApiServerTests.X", identity: identity);
            await scope.InjectAsync(apiServer.Stopped, async t => (await killedRun.ControlPlane.RunAsync(apiServer.StopCommand, ct: t)).EnsureSuccess(), default);
            // SIGKILL here: the scope is never disposed, the entry stays open. Make it look like a dead process's.
        }
        var open = ledger.OpenEntries().Single();
        Assert.That(File.Exists(Manifest), Is.False, "the manifest is away");
        Assert.That(File.Exists(Path.Combine(Parked, "kube-apiserver.yaml")), Is.True);
        Assert.That(open.ClusterCa, Is.EqualTo(ca).And.Not.Null);

        var dead = open with { Host = "host-of-the-killed-run" };
        ledger.Close(open.Id, "test: replaced by the same entry of a dead run");
        ledger.Open(dead);

        // The next run: nodes first, healing over SSH, then the API.
        var nodes = await NodeAccess.ConnectAsync(profile, null, default);
        var pass = await Healing.HealBeforeApiAsync(nodes, ledger, profile.Name, nodes.CaFingerprint, null, default);
        HealingReport.Write(pass, _results.Writer);
        pass.ThrowIfUnhealed();
        var healed = pass.Healed;

        Assert.That(healed.Select(e => e.Id), Is.EqualTo(new[] { dead.Id }));
        Assert.That(File.ReadAllText(Manifest), Is.EqualTo("# kube-apiserver\n"), "the manifest is back in kubelet's folder");
        Assert.That(File.Exists(Path.Combine(Parked, "kube-apiserver.yaml")), Is.False);
        Assert.That(ledger.OpenEntries(), Is.Empty);

        // No API answers on this loopback "cluster": reaching it fails as before, now with the manifest present.
        var e = await Assert.ThrowsAsync<ClusterUnreachableException>(() => Cluster.ConnectAsync(nodes, null, default));
        Assert.That(e!.Message, Does.Contain("did not answer").And.Contain("is present"));
    }

    [Test]
    public async Task In_a_check_the_scope_puts_the_manifest_back_over_ssh_when_it_ends()
    {
        var profile = Profile();
        var apiServer = StaticPod.Of(profile, "kube-apiserver");
        var ledger = new FaultLedger(LedgerPath);
        await using var nodes = await NodeAccess.ConnectAsync(profile, null, default);
        var policy = new FaultPolicy(new HashSet<string> { "w1-k8s" }, false, new HashSet<string> { "kube-apiserver" }, "m-k8s");

        await using (var scope = new FaultScope(ledger, nodes, policy, "run", "ApiServerTests.X"))
        {
            await scope.InjectAsync(apiServer.Stopped, async t => (await nodes.ControlPlane.RunAsync(apiServer.StopCommand, ct: t)).EnsureSuccess(), default);
            Assert.That(File.Exists(Manifest), Is.False);
            await ComponentWaits.UntilAsync((c, t, ct) => nodes.ControlPlane.RunAsync(c, t, ct), "kube-apiserver", apiServer.HealthCommand!,
                serving: false, TimeSpan.FromSeconds(5), null, default);
        }

        Assert.That(File.Exists(Manifest), Is.True);
        Assert.That(File.Exists(Path.Combine(Manifests, "etcd.yaml")), Is.True, "the other manifests were never touched");
        Assert.That(ledger.OpenEntries(), Is.Empty);
    }

    [Test]
    public async Task Before_the_api_is_asked_the_api_server_gets_its_restart_time_and_a_dead_one_is_no_exception()
    {
        await using (var nodes = await NodeAccess.ConnectAsync(Profile(), null, default))
            Assert.That(await nodes.WaitForApiServerAsync(default), Is.True, "its health command answers at once");

        File.Delete(Manifest); // "never serves": the health command keeps failing until controlPlaneRestartSeconds
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using (var nodes = await NodeAccess.ConnectAsync(ProfileLoader.Parse(File.ReadAllText(Path.Combine(_temp, "lab.yaml")),
                         Path.Combine(_temp, "lab.yaml"), new Dictionary<string, string> { ["timeouts.controlPlaneRestartSeconds"] = "2" }), null, default))
            Assert.That(await nodes.WaitForApiServerAsync(default), Is.False, "the API connection that follows names what is wrong");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
    }

    [Test]
    public async Task Node_only_access_refuses_a_revert_that_needs_the_api()
    {
        await using var nodes = await NodeAccess.ConnectAsync(Profile(), null, default);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => nodes.RevertAsync(Revert.UncordonNode("w1-k8s"), default));
        Assert.That(e!.Message, Does.Contain("needs the Kubernetes API"));
    }
}
