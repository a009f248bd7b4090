using System.Diagnostics;
using Harness.Faults;
using Harness.Kube;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Faults;

/// <summary>
/// The control-plane fault as data (issue 11): the profile's commands filled in for a component, the revert that needs
/// no API, its round trip through the ledger, the policy that lets it reach the control plane, and the commands
/// themselves run in a real shell on a folder that stands in for /etc/kubernetes.
/// </summary>
public class StaticPodTests
{
    private static readonly string ProfilesDirectory = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles");
    private static ClusterProfile Lab(IReadOnlyDictionary<string, string>? overrides = null) =>
        ProfileLoader.Load("lab", ProfilesDirectory, overrides).WithWorkers(["w1-k8s", "w2-k8s", "w3-k8s"]);

    [Test]
    public void The_lab_profile_stops_a_component_by_moving_its_kubeadm_manifest_out_of_kubelets_folder()
    {
        var apiServer = StaticPod.Of(Lab(), "kube-apiserver");

        Assert.Multiple(() =>
        {
            Assert.That(apiServer.Node, Is.EqualTo("m-k8s"));
            Assert.That(apiServer.Manifest, Is.EqualTo("/etc/kubernetes/manifests/kube-apiserver.yaml"));
            Assert.That(apiServer.Parked, Is.EqualTo("/etc/kubernetes/verification-parked/kube-apiserver.yaml"));
            Assert.That(apiServer.StopCommand, Is.EqualTo(
                "mkdir -p /etc/kubernetes/verification-parked && mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/verification-parked/kube-apiserver.yaml"));
            Assert.That(apiServer.StartCommand, Is.EqualTo(
                "if [ -f /etc/kubernetes/verification-parked/kube-apiserver.yaml ]; then mv /etc/kubernetes/verification-parked/kube-apiserver.yaml " +
                "/etc/kubernetes/manifests/kube-apiserver.yaml; fi; test -f /etc/kubernetes/manifests/kube-apiserver.yaml"));
            Assert.That(apiServer.HealthCommand, Is.EqualTo("curl -fsk --max-time 5 https://127.0.0.1:6443/readyz"));
            Assert.That(StaticPod.Of(Lab(), "etcd").HealthCommand, Is.EqualTo("curl -fs --max-time 5 http://127.0.0.1:2381/health"));
        });
    }

    [TestCase("lab"), TestCase("lab-revised"), TestCase("book"), TestCase("revised")]
    public void Every_profile_spells_out_kubeadms_defaults(string name)
    {
        var profile = ProfileLoader.Load(name, ProfilesDirectory);
        var kubeadm = new ComponentSettings();
        Assert.Multiple(() =>
        {
            Assert.That(profile.Components.StopStaticPod, Is.EqualTo(kubeadm.StopStaticPod));
            Assert.That(profile.Components.StartStaticPod, Is.EqualTo(kubeadm.StartStaticPod));
            Assert.That(profile.Components.ParkedManifestsDirectory, Is.EqualTo(kubeadm.ParkedManifestsDirectory));
            Assert.That(profile.Components.Stoppable, Is.EquivalentTo(kubeadm.Stoppable));
            foreach (var (component, probe) in ComponentSettings.KubeadmHealth)
                Assert.That(profile.Components.HealthCommand(component), Is.EqualTo(probe), component);
        });
    }

    [Test]
    public void A_profile_that_leaves_the_section_out_gets_kubeadms_defaults()
    {
        var profile = ProfileLoader.Parse("""
            name: minimal
            discovery: {mode: static, nodes: [{name: m-k8s, host: 127.0.0.1}, {name: w1-k8s, host: 127.0.0.1}]}
            login: {user: root}
            workers: [w1-k8s]
            """, "/tmp/minimal.yaml");
        var scheduler = StaticPod.Of(profile, "kube-scheduler");
        Assert.That(scheduler.StopCommand, Is.EqualTo("mkdir -p /etc/kubernetes/verification-parked && mv /etc/kubernetes/manifests/kube-scheduler.yaml /etc/kubernetes/verification-parked/kube-scheduler.yaml"));
        Assert.That(scheduler.HealthCommand, Is.EqualTo("curl -fsk --max-time 5 https://127.0.0.1:10259/healthz"));
    }

    [Test]
    public void A_user_can_break_the_fault_command_in_the_profile_and_the_check_injects_exactly_that()
    {
        var broken = StaticPod.Of(Lab(new Dictionary<string, string> { ["components.stopStaticPod"] = "true" }), "kube-scheduler");
        Assert.That(broken.Stopped.Command, Is.EqualTo("true"), "nothing moved: the symptom never comes and the check goes red");
        Assert.That(broken.Stopped.Revert.Command, Does.Contain("mv /etc/kubernetes/verification-parked/kube-scheduler.yaml"));
    }

    [TestCase("components.stoppable", "kube-apiserver,../etc", "not a component name")]
    [TestCase("components.parkedManifestsDirectory", "/etc/kubernetes/manifests", "kubelet would keep running")]
    [TestCase("components.parkedManifestsDirectory", "parked; rm -rf /", "absolute path")]
    public void A_profile_whose_component_settings_would_make_a_bad_shell_command_is_refused(string key, string value, string why)
    {
        var e = Assert.Throws<ProfileException>(() => Lab(new Dictionary<string, string> { [key] = value }))!;
        Assert.That(e.Message, Does.Contain(why));
    }

    [Test]
    public void The_revert_needs_no_api_and_survives_the_ledger_with_its_component_and_cluster_ca()
    {
        using var ledger = new TempLedger();
        var fault = StaticPod.Of(Lab(), "kube-apiserver").Stopped;
        ledger.Ledger.Open(new LedgerEntry("e1", "run-1", "ApiServerTests.X", fault.Name, fault.Target, fault.Command, fault.Revert,
            DateTimeOffset.UtcNow, "host", 4242, "lab", "uid-1", "ca-fingerprint"));

        var read = new FaultLedger(ledger.Path).OpenEntries().Single();

        Assert.That(read.Revert, Is.EqualTo(fault.Revert));
        Assert.That(read.Revert.Kind, Is.EqualTo(RevertKind.RestoreStaticPodManifest));
        Assert.That(read.Revert.Component, Is.EqualTo("kube-apiserver"));
        Assert.That(read.Revert.NeedsApi, Is.False);
        Assert.That(read.ClusterCa, Is.EqualTo("ca-fingerprint"));
        Assert.That(ledger.Text, Does.Contain("\"kind\":\"RestoreStaticPodManifest\"").And.Not.Contain("needsApi"));
        Assert.That(read.Revert.ToString(), Does.StartWith("on m-k8s: if [ -f").And.EndWith("(kube-apiserver's manifest back)"));
    }

    [Test]
    public void Which_reverts_need_the_api()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Revert.OnNode("w1-k8s", "systemctl start kubelet").NeedsApi, Is.False);
            Assert.That(Revert.RestoreStaticPod("m-k8s", "etcd", "mv a b").NeedsApi, Is.False);
            Assert.That(Revert.RebootNode("w1-k8s").NeedsApi, Is.True, "it waits for the node's Ready through the API");
            Assert.That(Revert.UncordonNode("w1-k8s").NeedsApi, Is.True);
            Assert.That(Revert.DeleteNamespace("verification").NeedsApi, Is.True);
        });
    }

    [Test]
    public void The_policy_lets_a_listed_component_be_stopped_on_the_control_plane_only()
    {
        var policy = new FaultPolicy(new HashSet<string> { "w1-k8s" }, DryRun: false, new HashSet<string> { "kube-scheduler" }, "m-k8s");
        var scheduler = StaticPod.Of(Lab(), "kube-scheduler").Stopped;

        Assert.DoesNotThrow(() => policy.Ensure(scheduler), "the control plane is no fault target, but a listed component may be stopped there");
        Assert.That(Assert.Throws<InvalidOperationException>(() => policy.Ensure(StaticPod.Of(Lab(), "etcd").Stopped))!.Message,
            Does.Contain("stopping etcd is not allowed").And.Contain("components.stoppable"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => policy.Ensure(scheduler with { Target = "w1-k8s" }))!.Message,
            Does.Contain("control plane (m-k8s) only"));
        Assert.Throws<InvalidOperationException>(() => policy.Ensure(Fault.OnNode("kubelet stopped", "m-k8s", "systemctl stop kubelet", Revert.OnNode("m-k8s", "x"))),
            "an ordinary node fault still needs a fault target");
        Assert.Throws<InvalidOperationException>(() => new FaultPolicy(new HashSet<string>(), false).Ensure(scheduler),
            "a policy made without components (older callers) lets none be stopped");
    }

    [Test]
    public async Task A_refused_component_fault_writes_nothing_to_the_ledger()
    {
        using var ledger = new TempLedger();
        var scope = new FaultScope(ledger.Ledger, new FakeReverter(), new FaultPolicy(new HashSet<string> { "w1-k8s" }, false), "run", "check");
        var injected = false;

        await Assert.ThrowsAsync<InvalidOperationException>(() => scope.InjectAsync(StaticPod.Of(Lab(), "kube-apiserver").Stopped, _ => { injected = true; return Task.CompletedTask; }, default));

        Assert.That(injected, Is.False);
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
        await scope.DisposeAsync();
    }

    [Test]
    public async Task The_scope_writes_the_clusters_ca_into_the_entry_before_the_manifest_moves()
    {
        using var ledger = new TempLedger();
        var identity = new ClusterIdentity("lab", "uid-1") { CaFingerprint = "ca-1" };
        var policy = new FaultPolicy(new HashSet<string>(), false, new HashSet<string> { "kube-apiserver" }, "m-k8s");
        var scope = new FaultScope(ledger.Ledger, new FakeReverter(), policy, "run", "check", identity: identity);
        LedgerEntry? seenWhenInjecting = null;

        await scope.InjectAsync(StaticPod.Of(Lab(), "kube-apiserver").Stopped, _ =>
        {
            seenWhenInjecting = ledger.Ledger.OpenEntries().SingleOrDefault();
            return Task.CompletedTask;
        }, default);

        Assert.That(seenWhenInjecting?.ClusterCa, Is.EqualTo("ca-1"));
        await scope.DisposeAsync();
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
    }

    // ---- the commands in a real shell, on a folder standing in for /etc/kubernetes ---------------------------------

    private sealed class FakeEtcKubernetes : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("static-pod-").FullName;
        public string Manifests => Path.Combine(Root, "manifests");
        public string Parked => Path.Combine(Root, "verification-parked");
        public string Manifest(string c) => Path.Combine(Manifests, c + ".yaml");
        public string ParkedManifest(string c) => Path.Combine(Parked, c + ".yaml");

        public FakeEtcKubernetes()
        {
            Directory.CreateDirectory(Manifests);
            foreach (var c in new[] { "kube-apiserver", "etcd" }) File.WriteAllText(Manifest(c), $"# {c}\n");
        }

        /// <summary>The lab profile pointed at this folder, with "serving" meaning "its manifest is in kubelet's folder".</summary>
        public ClusterProfile Profile() => Lab(new Dictionary<string, string>
        {
            ["components.manifestsDirectory"] = Manifests,
            ["components.parkedManifestsDirectory"] = Parked,
            ["components.health.kube-apiserver"] = $"test -f {Manifest("kube-apiserver")}",
        });

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    /// <summary>Runs a command in /bin/sh here, as a node's shell would.</summary>
    private static async Task<CommandResult> Sh(string command, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return new CommandResult("local", command, process.ExitCode, await stdout, await stderr, TimeSpan.Zero);
    }

    [Test]
    public async Task Stop_parks_the_manifest_start_puts_it_back_and_start_again_is_harmless()
    {
        using var etc = new FakeEtcKubernetes();
        var apiServer = StaticPod.Of(etc.Profile(), "kube-apiserver");

        (await Sh(apiServer.StopCommand, default, default)).EnsureSuccess();
        Assert.That(File.Exists(etc.Manifest("kube-apiserver")), Is.False, "kubelet's folder no longer has it");
        Assert.That(File.ReadAllText(etc.ParkedManifest("kube-apiserver")), Is.EqualTo("# kube-apiserver\n"));
        Assert.That(File.Exists(etc.Manifest("etcd")), Is.True, "the other components stay");

        await ComponentWaits.RestoreAsync(Sh, apiServer.Restore, apiServer.HealthCommand, TimeSpan.FromSeconds(10), null, default);
        Assert.That(File.ReadAllText(etc.Manifest("kube-apiserver")), Is.EqualTo("# kube-apiserver\n"));
        Assert.That(File.Exists(etc.ParkedManifest("kube-apiserver")), Is.False);

        // A dead run may have put it back already and died before closing its entry: healing it again must succeed.
        await ComponentWaits.RestoreAsync(Sh, apiServer.Restore, apiServer.HealthCommand, TimeSpan.FromSeconds(10), null, default);
        Assert.That(File.Exists(etc.Manifest("kube-apiserver")), Is.True);
    }

    [Test]
    public async Task Start_fails_when_the_manifest_is_nowhere()
    {
        using var etc = new FakeEtcKubernetes();
        var scheduler = StaticPod.Of(etc.Profile(), "kube-scheduler"); // never there in the fake folder

        var e = await Assert.ThrowsAsync<NodeCommandFailedException>(() =>
            ComponentWaits.RestoreAsync(Sh, scheduler.Restore, "true", TimeSpan.FromSeconds(5), null, default));
        Assert.That(e!.Result.ExitCode, Is.Not.Zero);
    }

    // ---- waiting on the component's health ---------------------------------------------------------------------------

    /// <summary>Answers a health command with failures until <paramref name="failures"/> have been given, then successes.</summary>
    private static ComponentWaits.RunOnNode FailingFirst(int failures, List<string>? seen = null)
    {
        var tries = 0;
        return (command, _, _) =>
        {
            seen?.Add(command);
            var ok = ++tries > failures;
            return Task.FromResult(new CommandResult("m-k8s", command, ok ? 0 : 7, ok ? "ok" : "", ok ? "" : "curl: (7) Failed to connect to 127.0.0.1 port 10259: Connection refused", TimeSpan.Zero));
        };
    }

    [Test]
    public async Task The_wait_for_a_component_ends_when_its_health_command_succeeds()
    {
        var seen = new List<string>();
        await ComponentWaits.UntilAsync(FailingFirst(3, seen), "kube-scheduler", "curl -fsk https://127.0.0.1:10259/healthz", serving: true,
            TimeSpan.FromSeconds(10), null, default, pollDelay: TimeSpan.FromMilliseconds(10));
        Assert.That(seen, Has.Count.EqualTo(4));
    }

    [Test]
    public async Task The_wait_for_a_component_to_stop_ends_at_the_first_failure()
    {
        var tries = 0;
        ComponentWaits.RunOnNode stopsOnThirdTry = (c, _, _) => Task.FromResult(new CommandResult("m-k8s", c, ++tries >= 3 ? 7 : 0, "", "", TimeSpan.Zero));
        await ComponentWaits.UntilAsync(stopsOnThirdTry, "kube-scheduler", "probe", serving: false, TimeSpan.FromSeconds(10), null, default, TimeSpan.FromMilliseconds(10));
        Assert.That(tries, Is.EqualTo(3));
    }

    [Test]
    public async Task A_component_that_never_serves_fails_the_wait_with_its_last_answer()
    {
        var e = await Assert.ThrowsAsync<Harness.Waits.WaitTimeoutException>(() => ComponentWaits.UntilAsync(FailingFirst(int.MaxValue), "kube-scheduler",
            "curl -fsk https://127.0.0.1:10259/healthz", serving: true, TimeSpan.FromMilliseconds(300), null, default, TimeSpan.FromMilliseconds(20)));
        Assert.That(e!.Message, Does.StartWith("Timed out after 0 s waiting for kube-scheduler to serve again (`curl -fsk https://127.0.0.1:10259/healthz`). Last seen: exit 7")
            .And.Contain("exit 7").And.Contain("Connection refused"));
        Assert.That(e.LastState, Does.StartWith("exit 7"));
    }

    [Test]
    public async Task A_health_command_that_hangs_counts_as_not_serving_and_the_wait_goes_on()
    {
        var tries = 0;
        ComponentWaits.RunOnNode hangsOnce = (c, t, _) => ++tries == 1
            ? throw new NodeCommandTimeoutException("m-k8s", c, t)
            : Task.FromResult(new CommandResult("m-k8s", c, 0, "ok", "", TimeSpan.Zero));
        await ComponentWaits.UntilAsync(hangsOnce, "kube-apiserver", "probe", serving: true, TimeSpan.FromSeconds(10), null, default, TimeSpan.FromMilliseconds(10));
        Assert.That(tries, Is.EqualTo(2));
    }
}
