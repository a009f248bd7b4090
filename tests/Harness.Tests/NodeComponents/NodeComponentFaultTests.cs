using Harness.Probes;
using System.Diagnostics;
using Harness.Faults;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Safety;
using Harness.Tests.Faults;
using Harness.Tests.Reporting;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.NodeComponents;

/// <summary>
/// The node components' faults as data (issue 11, part 2): the profile's commands with their defaults, the new
/// reverts' round trip through the ledger, healing's decisions on them, a killed run's entries healed by the next, the
/// CNI commands in a real shell, and the DaemonSet exclusion the kube-proxy check sets and its revert removes.
/// </summary>
public class NodeComponentFaultTests
{
    private static readonly string ProfilesDirectory = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles");
    private static readonly string[] ThreeWorkers = ["w1-k8s", "w2-k8s", "w3-k8s"];

    private static ClusterProfile Load(string name, IReadOnlyDictionary<string, string>? overrides = null) =>
        ProfileLoader.Load(name, ProfilesDirectory, overrides).WithWorkers(ThreeWorkers);

    private static ClusterProfile Minimal(string extra = "") => ProfileLoader.Parse($"""
        name: minimal
        discovery: {"{"}mode: static, nodes: [{"{"}name: m-k8s, host: 127.0.0.1{"}"}, {"{"}name: w1-k8s, host: 127.0.0.1{"}"}]{"}"}
        login: {"{"}user: root{"}"}
        workers: [w1-k8s]
        {extra}
        """, "/tmp/minimal.yaml");

    // ---- the profile's commands -------------------------------------------------------------------------------------

    [Test]
    public void A_profile_that_leaves_the_node_component_commands_out_gets_the_defaults()
    {
        var profile = Minimal();
        Assert.Multiple(() =>
        {
            Assert.That(profile.Commands.StopContainerRuntime, Is.EqualTo("systemctl stop {runtimeUnits}"));
            Assert.That(profile.Commands.StartContainerRuntime, Is.EqualTo("systemctl start {runtimeUnits}"));
            Assert.That(profile.Commands.BreakCni, Is.EqualTo("mkdir -p /etc/cni/verification-parked && mv /etc/cni/net.d/* /etc/cni/verification-parked/"));
            Assert.That(profile.Commands.RestoreCni, Does.StartWith("if [ -d /etc/cni/verification-parked ]; then cp -a"));
            Assert.That(profile.Commands.BreakBridgeNetfilter, Is.EqualTo("sysctl -w net.bridge.bridge-nf-call-iptables=0"));
            Assert.That(profile.Commands.RestoreBridgeNetfilter, Is.EqualTo("sysctl -w net.bridge.bridge-nf-call-iptables=1"));
            Assert.That(profile.Components.RuntimeStopKeepsContainers, Is.Null, "read from the node");
            Assert.That(profile.Components.CoreDnsDeployment, Is.EqualTo("coredns"));
            Assert.That(profile.Images.DnsUtils, Is.EqualTo("busybox:1.28"));
        });
    }

    [Test]
    public void A_key_given_empty_gets_the_default_rather_than_an_empty_command()
    {
        var profile = Minimal("commands: {stopContainerRuntime: '', breakCni: ''}");
        Assert.That(profile.Commands.StopContainerRuntime, Is.EqualTo(new FaultCommands().StopContainerRuntime));
        Assert.That(profile.Commands.BreakCni, Is.EqualTo(new FaultCommands().BreakCni));
    }

    [Test]
    public void The_lab_stops_the_runtime_its_nodes_report_and_its_own_cni_writer_the_book_stops_docker_with_its_socket()
    {
        var lab = Load("lab");
        var book = Load("book");
        Assert.Multiple(() =>
        {
            Assert.That(lab.Commands.StopContainerRuntime, Is.EqualTo("systemctl stop {runtimeUnits}"), "LAB_RUNTIME=containerd or docker");
            Assert.That(lab.Components.RuntimeStopKeepsContainers, Is.Null, "read from the node: containerd keeps, docker without live-restore does not");
            Assert.That(lab.Kubernetes.ContainerRuntime, Is.Empty, "the nodes say which runtime the lab runs");
            Assert.That(lab.Commands.BreakCni, Does.StartWith("systemctl stop lab-podnet && "), "lab-podnet rewrites the bridge config every 5 s");
            Assert.That(lab.Commands.RestoreCni, Does.Contain("systemctl start lab-podnet"));
            Assert.That(lab.Components.CoreDns, Is.False);
            Assert.That(book.Commands.StopContainerRuntime, Is.EqualTo("systemctl stop docker.socket docker.service"));
            Assert.That(book.Commands.StartContainerRuntime, Is.EqualTo("systemctl start docker.socket docker.service"));
            Assert.That(book.Components.RuntimeStopKeepsContainers, Is.False, "dockerd stops its containers without live-restore");
            Assert.That(book.Commands.BreakCni, Is.EqualTo(new FaultCommands().BreakCni));
            Assert.That(book.Components.CoreDns, Is.True);
        });
    }

    [TestCase("lab"), TestCase("lab-revised"), TestCase("book"), TestCase("revised")]
    public void Every_profile_spells_out_the_br_netfilter_sysctl(string name)
    {
        var profile = Load(name);
        Assert.That(profile.Commands.BreakBridgeNetfilter, Is.EqualTo("sysctl -w net.bridge.bridge-nf-call-iptables=0"));
        Assert.That(profile.Commands.RestoreBridgeNetfilter, Is.EqualTo("sysctl -w net.bridge.bridge-nf-call-iptables=1"));
        Assert.That(profile.Images.DnsUtils, Is.Not.Empty);
    }

    [Test]
    public void A_user_can_break_a_fault_command_in_the_profile_and_the_check_injects_exactly_that()
    {
        var profile = Load("lab", new Dictionary<string, string> { ["commands.breakCni"] = "true", ["commands.stopContainerRuntime"] = "true" });
        var cni = Fault.OnNode("CNI configuration taken away", "w3-k8s", profile.Commands.BreakCni, Revert.OnNode("w3-k8s", profile.Commands.RestoreCni));
        Assert.That(cni.Command, Is.EqualTo("true"), "nothing moved: the symptom never comes and the check goes red");
        Assert.That(profile.Commands.StopContainerRuntime, Is.EqualTo("true"));
        Assert.That(cni.Revert.Command, Does.Contain("systemctl start lab-podnet"), "the revert is still the real one");
    }

    // ---- feasibility of the commands (probed by each check on its worker) --------------------------------------------

    [Test]
    public void The_node_component_commands_parse_into_what_the_node_must_have()
    {
        var lab = Load("lab");
        var book = Load("book");
        var needs = (string command) => FaultFeasibility.Parse(command).Select(n => $"{n.Kind} {n.Name}").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(needs(RuntimeUnitFilter.FillRuntimeUnits(lab.Commands.StopContainerRuntime, "containerd://1.6.20", "w1-k8s")),
                Is.EqualTo(new[] { "Program systemctl", "Unit containerd" }));
            Assert.That(needs(book.Commands.StopContainerRuntime), Is.EqualTo(new[] { "Program systemctl", "Unit docker.socket", "Unit docker.service" }));
            Assert.That(needs(lab.Commands.BreakCni), Is.EqualTo(new[] { "Program systemctl", "Unit lab-podnet", "Program mkdir", "Program mv" }));
            Assert.That(needs(lab.Commands.BreakBridgeNetfilter), Is.EqualTo(new[] { "Program sysctl", "SysctlKey net.bridge.bridge-nf-call-iptables" }));
            Assert.That(needs(book.Commands.RestoreCni), Is.EqualTo(new[] { "Program [", "Program cp", "Program rm", "Program ls", "Program grep" }),
                "the shell's reserved words are no programs: what follows them is");
            Assert.That(needs("if [ -f /a ]; then mv /a /b; fi; test -f /b"), Is.EqualTo(new[] { "Program [", "Program mv", "Program test" }));
        });
        Assert.That(FaultFeasibility.ContainerRuntimeSettings(book).Select(s => s.Name), Is.EqualTo(new[] { "commands.stopContainerRuntime", "commands.startContainerRuntime" }));
        Assert.That(FaultFeasibility.CniSettings(lab).Select(s => s.Command), Is.EqualTo(new[] { lab.Commands.BreakCni, lab.Commands.RestoreCni }));
        Assert.That(FaultFeasibility.BridgeNetfilterSettings(lab).Select(s => s.Name), Is.EqualTo(new[] { "commands.breakBridgeNetfilter", "commands.restoreBridgeNetfilter" }));
    }

    [Test]
    public void A_node_without_the_sysctl_key_or_the_unit_is_named_with_its_setting()
    {
        var lab = Load("lab");
        var settings = FaultFeasibility.BridgeNetfilterSettings(lab)
            .Concat(FaultFeasibility.ContainerRuntimeSettings(lab, ("w1-k8s", "containerd://1.6.20"), new HashSet<string>(), out _)).ToList();
        var findings = new Dictionary<(FaultFeasibility.NeedKind, string), string>
        {
            [(FaultFeasibility.NeedKind.Program, "sysctl")] = "found",
            [(FaultFeasibility.NeedKind.Program, "systemctl")] = "found",
            [(FaultFeasibility.NeedKind.SysctlKey, "net.bridge.bridge-nf-call-iptables")] = "missing",
            [(FaultFeasibility.NeedKind.Unit, "containerd")] = "LoadState=not-found",
        };
        var problems = FaultFeasibility.Judge(settings, findings, new FaultFeasibility.ProbeRoots());
        Assert.That(problems, Has.Some.Contains("commands.breakBridgeNetfilter").And.Some.Contains("no /proc/sys/net/bridge/bridge-nf-call-iptables"));
        Assert.That(problems, Has.Some.Contains("commands.stopContainerRuntime").And.Some.Contains("systemd has no unit containerd"));
    }

    // ---- the reverts as data -----------------------------------------------------------------------------------------

    [Test]
    public void The_new_reverts_survive_the_ledger_with_every_field_and_need_the_api()
    {
        using var ledger = new TempLedger();
        var scale = Revert.ScaleDeploymentBack("kube-system", "coredns", 2);
        var kubeProxy = Revert.LetDaemonSetOn("w2-k8s", "kube-system", "kube-proxy");
        ledger.Ledger.Open(Entry("scale", scale, "CoreDNS scaled to 0", "kube-system/coredns"));
        ledger.Ledger.Open(Entry("proxy", kubeProxy, "kube-proxy kept off the node", "w2-k8s"));

        var read = new FaultLedger(ledger.Path).OpenEntries().ToDictionary(e => e.Id, e => e.Revert);

        Assert.Multiple(() =>
        {
            Assert.That(read["scale"], Is.EqualTo(scale));
            Assert.That(read["scale"].Replicas, Is.EqualTo(2));
            Assert.That(read["scale"].Namespace, Is.EqualTo("kube-system"));
            Assert.That(read["proxy"], Is.EqualTo(kubeProxy));
            Assert.That(read["proxy"].Component, Is.EqualTo("kube-proxy"));
            Assert.That(scale.NeedsApi && kubeProxy.NeedsApi, Is.True, "both are API calls: healed after the API answers");
            Assert.That(ledger.Text, Does.Contain("\"kind\":\"ScaleDeployment\"").And.Contain("\"kind\":\"LetDaemonSetOnNode\"").And.Contain("\"replicas\":2"));
            Assert.That(scale.ToString(), Is.EqualTo("kubectl -n kube-system scale deployment coredns --replicas=2"));
            Assert.That(kubeProxy.ToString(), Does.StartWith("kubectl -n kube-system patch daemonset kube-proxy").And.Contain("off w2-k8s"));
        });
    }

    [Test]
    public void An_older_entry_without_the_new_fields_still_reads()
    {
        using var ledger = new TempLedger();
        ledger.Ledger.Open(Entry("old", Revert.OnNode("w1-k8s", "systemctl start kubelet"), "kubelet stopped", "w1-k8s"));
        var read = new FaultLedger(ledger.Path).OpenEntries().Single().Revert;
        Assert.That(read.Namespace, Is.Null);
        Assert.That(read.Replicas, Is.Null);
        Assert.That(ledger.Text, Does.Not.Contain("replicas").And.Not.Contain("namespace"), "null fields are not written");
    }

    private static readonly ClusterIdentity Lab = ClusterIdentity.Of(Load("lab"), "lab-uid");
    private static readonly ClusterIdentity Book = ClusterIdentity.Of(Load("book"), "book-uid");

    private static LedgerEntry Entry(string id, Revert revert, string fault, string node, ClusterIdentity? owner = null, int minutesAgo = 1, string? ca = null) =>
        new(id, "crashed-run", "NodeComponentTests.X", fault, node, "the fault", revert, DateTimeOffset.UtcNow.AddMinutes(-minutesAgo),
            "host-of-a-dead-run", 4242, owner?.Profile, owner?.ClusterUid, ca);

    [Test]
    public void Healing_heals_the_new_reverts_of_its_own_cluster_only_and_never_before_the_api()
    {
        var scale = Revert.ScaleDeploymentBack("kube-system", "coredns", 2);
        var kubeProxy = Revert.LetDaemonSetOn("w2-k8s", "kube-system", "kube-proxy");
        var runtime = Revert.OnNode("w1-k8s", "systemctl start containerd");
        Assert.Multiple(() =>
        {
            Assert.That(Healing.Decide(Entry("a", scale, "CoreDNS scaled to 0", "kube-system/coredns", Book), Book), Is.EqualTo(Healing.Decision.Heal));
            Assert.That(Healing.Decide(Entry("b", kubeProxy, "kube-proxy kept off the node", "w2-k8s", Lab), Lab), Is.EqualTo(Healing.Decision.Heal));
            Assert.That(Healing.Decide(Entry("c", kubeProxy, "kube-proxy kept off the node", "w2-k8s", Book), Lab), Is.EqualTo(Healing.Decision.LeaveToItsOwner),
                "another cluster's DaemonSet is not this run's to patch");
            Assert.That(Healing.Decide(Entry("d", kubeProxy, "kube-proxy kept off the node", "w2-k8s"), Lab), Is.EqualTo(Healing.Decision.LeaveToItsOwner),
                "an entry without an identity is healed only when it is one of the old reverts this profile makes");
            Assert.That(Healing.DecideBeforeApi(Entry("e", scale, "CoreDNS scaled to 0", "kube-system/coredns", Book, ca: "ca"), "book", "ca"), Is.Null,
                "it needs the API: left to the pass after the API answers");
            Assert.That(Healing.DecideBeforeApi(Entry("f", runtime, "container runtime stopped", "w1-k8s", Lab, ca: "ca"), "lab", "ca"), Is.EqualTo(Healing.Decision.Heal),
                "a node command needs no API: the container runtime is started again before the API is asked");
        });
    }

    [Test]
    public async Task A_run_killed_with_each_node_component_fault_in_place_is_healed_by_the_next_newest_first()
    {
        using var ledger = new TempLedger();
        var lab = Load("lab");
        var faults = new[]
        {
            Fault.OnNode("container runtime stopped", "w1-k8s", lab.Commands.StopContainerRuntime, Revert.OnNode("w1-k8s", lab.Commands.StartContainerRuntime)),
            Fault.OnNode("CNI configuration taken away", "w3-k8s", lab.Commands.BreakCni, Revert.OnNode("w3-k8s", lab.Commands.RestoreCni)),
            Fault.OnNode("bridge-nf-call-iptables off", "w2-k8s", lab.Commands.BreakBridgeNetfilter, Revert.OnNode("w2-k8s", lab.Commands.RestoreBridgeNetfilter)),
            Fault.OnNode("kube-proxy kept off the node", "w2-k8s", DaemonSetExclusion.KubectlCommand("kube-system", "kube-proxy", "w2-k8s"),
                Revert.LetDaemonSetOn("w2-k8s", "kube-system", "kube-proxy")),
            Fault.InCluster("CoreDNS scaled to 0", "kube-system/coredns", "kubectl -n kube-system scale deployment coredns --replicas=0",
                Revert.ScaleDeploymentBack("kube-system", "coredns", 2)),
        };
        // The dead run: each fault injected through a scope that never ends (SIGKILL), with an identity of the lab.
        var deadReverter = new FakeReverter();
        var policy = new FaultPolicy(ThreeWorkers.ToHashSet(), DryRun: false);
        var injected = new List<string>();
        var dead = new FaultScope(ledger.Ledger, deadReverter, policy, "dead-run", "NodeComponentTests", identity: Lab);
        foreach (var fault in faults)
        {
            await dead.InjectAsync(fault, _ =>
            {
                Assert.That(ledger.Ledger.OpenEntries().Select(e => e.Fault), Does.Contain(fault.Name), "the revert is on disk before the fault is made");
                injected.Add(fault.Name);
                return Task.CompletedTask;
            }, default);
        }
        // Make the entries look like a dead process's: rewrite them with another host's pid.
        var open = ledger.Ledger.OpenEntries();
        foreach (var entry in open) ledger.Ledger.Close(entry.Id, "rewritten by the test");
        foreach (var entry in open) ledger.Ledger.Open(entry with { Host = "host-of-a-dead-run", Pid = 4242 });

        var reverter = new FakeReverter();
        var pass = await Healing.HealAsync(reverter, ledger.Ledger, Lab, null, CancellationToken.None);
        pass.ThrowIfUnhealed();
        var healed = pass.Healed;

        Assert.That(injected, Is.EqualTo(faults.Select(f => f.Name)));
        Assert.That(healed, Has.Count.EqualTo(faults.Length));
        Assert.That(reverter.Reverted, Is.EqualTo(Enumerable.Reverse(faults).Select(f => f.Revert)), "newest first, each with its own revert");
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
        Assert.That(deadReverter.Reverted, Is.Empty);
    }

    // ---- the CNI commands in a real shell, on a folder standing in for /etc/cni --------------------------------------

    private sealed class FakeEtcCni : IDisposable
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "etc-cni-" + Guid.NewGuid().ToString("N"));
        public string NetD => Path.Combine(Root, "net.d");
        public string Parked => Path.Combine(Root, "verification-parked");
        public FakeEtcCni()
        {
            Directory.CreateDirectory(NetD);
            File.WriteAllText(Path.Combine(NetD, "10-calico.conflist"), "{\"name\":\"k8s-pod-network\"}");
            File.WriteAllText(Path.Combine(NetD, "calico-kubeconfig"), "kubeconfig");
        }
        public string Local(string command) => command.Replace("/etc/cni", Root);
        public void Dispose() { try { Directory.Delete(Root, recursive: true); } catch (DirectoryNotFoundException) { } }
    }

    private static async Task<(int ExitCode, string Output)> Sh(string command)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [Test]
    public async Task Break_parks_the_cni_files_restore_puts_them_back_and_restore_again_is_harmless()
    {
        using var cni = new FakeEtcCni();
        var commands = new FaultCommands();

        Assert.That((await Sh(cni.Local(commands.BreakCni))).ExitCode, Is.Zero);
        Assert.That(Directory.GetFiles(cni.NetD), Is.Empty, "the runtime finds no network config");
        Assert.That(Directory.GetFiles(cni.Parked).Select(Path.GetFileName), Is.EquivalentTo(new[] { "10-calico.conflist", "calico-kubeconfig" }));

        Assert.That((await Sh(cni.Local(commands.RestoreCni))).ExitCode, Is.Zero);
        Assert.That(Directory.GetFiles(cni.NetD).Select(Path.GetFileName), Is.EquivalentTo(new[] { "10-calico.conflist", "calico-kubeconfig" }));
        Assert.That(Directory.Exists(cni.Parked), Is.False);
        Assert.That(File.ReadAllText(Path.Combine(cni.NetD, "10-calico.conflist")), Does.Contain("k8s-pod-network"));

        Assert.That((await Sh(cni.Local(commands.RestoreCni))).ExitCode, Is.Zero, "healing may repeat it after the check already restored");
    }

    [Test]
    public async Task Restore_fails_when_there_is_no_configuration_anywhere()
    {
        using var cni = new FakeEtcCni();
        foreach (var file in Directory.GetFiles(cni.NetD)) File.Delete(file);
        var restore = await Sh(cni.Local(new FaultCommands().RestoreCni));
        Assert.That(restore.ExitCode, Is.Not.Zero, "nothing to put back: the revert must not claim success");
    }

    [Test]
    public async Task Restore_after_a_run_killed_between_the_ledger_and_the_move_leaves_the_configuration_alone()
    {
        using var cni = new FakeEtcCni();
        Directory.CreateDirectory(cni.Parked); // mkdir ran, mv did not
        Assert.That((await Sh(cni.Local(new FaultCommands().RestoreCni))).ExitCode, Is.Zero);
        Assert.That(Directory.GetFiles(cni.NetD), Has.Length.EqualTo(2));
    }

    [TestCase("docker://20.10.24", true)]
    [TestCase("docker://1.13.1", true)]
    [TestCase("containerd://1.6.20", false)]
    [TestCase("cri-o://1.30.0", false)]
    [TestCase(null, false)]
    public void The_cni_break_restarts_kubelet_only_where_dockershim_keeps_the_network_it_loaded(string? runtime, bool restarts)
    {
        var lab = Load("lab");
        var command = CniBreak.On(lab.Commands, runtime);
        Assert.That(command, Does.StartWith(lab.Commands.BreakCni));
        Assert.That(command.EndsWith($" && {lab.Commands.StopKubelet} && {lab.Commands.StartKubelet}"), Is.EqualTo(restarts), command);
    }
}
