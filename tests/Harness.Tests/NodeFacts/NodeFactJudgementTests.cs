using Harness.Probes;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Safety;
using NUnit.Framework;
using Facts = Harness.Probes.NodeFacts;

namespace Harness.Tests.NodeFacts;

/// <summary>What the facts decide: the runtime commands fitted to the node's units (and what the feasibility probe then
/// judges), and S3's verdict on what stopped the traffic.</summary>
public class NodeFactJudgementTests
{
    private static readonly string ProfilesDirectory = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles");

    private static ClusterProfile Book() => ProfileLoader.Load("book", ProfilesDirectory).WithWorkers(["w1-k8s", "w2-k8s", "w3-k8s"]);

    private static readonly HashSet<string> CentOsDocker = ["docker.service"];
    private static readonly HashSet<string> DockerCe = ["docker.service", "docker.socket", "containerd.service"];

    // ---- the runtime's units ------------------------------------------------------------------------------------------

    [Test]
    public void Docker_socket_is_left_out_where_the_node_has_no_such_unit()
    {
        var (stop, dropped) = RuntimeUnitFilter.KeepExisting("systemctl stop docker.socket docker.service", CentOsDocker);

        Assert.That(stop, Is.EqualTo("systemctl stop docker.service"));
        Assert.That(dropped, Is.EqualTo(new[] { "docker.socket" }));
        Assert.That(RuntimeUnitFilter.Explain("commands.stopContainerRuntime", dropped, "w1-k8s"),
            Is.EqualTo("commands.stopContainerRuntime: docker.socket left out: w1-k8s has no such unit (systemctl list-unit-files); the rest of the profile's command runs as written"));
    }

    [Test]
    public void The_profile_command_is_kept_where_every_unit_exists_none_does_or_nothing_was_read()
    {
        const string book = "systemctl stop docker.socket docker.service";
        var (kept, dropped) = RuntimeUnitFilter.KeepExisting(book, DockerCe);
        Assert.That(kept, Is.EqualTo(book), "docker-ce with its socket: as written");
        Assert.That(dropped, Is.Empty);
        Assert.That(RuntimeUnitFilter.KeepExisting(book, new HashSet<string> { "containerd.service" }).Command, Is.EqualTo(book),
            "every unit missing: kept, so the feasibility probe refuses it by name");
        Assert.That(RuntimeUnitFilter.KeepExisting(book, new HashSet<string>()).Command, Is.EqualTo(book), "no units read: nothing is changed");
        Assert.That(RuntimeUnitFilter.KeepExisting("systemctl stop containerd", new HashSet<string> { "containerd.service" }).Command,
            Is.EqualTo("systemctl stop containerd"), "a unit without a suffix is a .service");
    }

    [TestCase("containerd://1.6.20", "systemctl stop containerd")]
    [TestCase("docker://20.10.24", "systemctl stop docker.socket docker.service")]
    [TestCase("cri-o://1.30.0", "systemctl stop crio")]
    public void RuntimeUnits_stands_for_the_units_of_the_runtime_the_node_reports(string reported, string expected) =>
        Assert.That(RuntimeUnitFilter.FillRuntimeUnits("systemctl stop {runtimeUnits}", reported, "w1-k8s"), Is.EqualTo(expected));

    [Test]
    public void RuntimeUnits_on_a_runtime_the_harness_does_not_know_names_the_node_and_the_settings_to_write()
    {
        var e = Assert.Throws<InvalidOperationException>(() => RuntimeUnitFilter.FillRuntimeUnits("systemctl stop {runtimeUnits}", "rkt://1.0", "w2-k8s"));
        Assert.That(e!.Message, Does.Contain("w2-k8s reports the container runtime 'rkt://1.0'").And.Contain("commands.stopContainerRuntime"));
        Assert.That(RuntimeUnitFilter.FillRuntimeUnits("systemctl stop containerd", "rkt://1.0", "w2-k8s"), Is.EqualTo("systemctl stop containerd"),
            "a command written out is run as written");
    }

    [Test]
    public void The_lab_profile_stops_what_its_docker_node_runs_and_fits_it_to_the_units_there()
    {
        var lab = ProfileLoader.Load("lab", ProfilesDirectory).WithWorkers(["w1-k8s", "w2-k8s", "w3-k8s"]);
        var docker = FaultFeasibility.ContainerRuntimeSettings(lab, ("w1-k8s", "docker://20.10.24"), DockerCe, out var leftOut);
        var containerd = FaultFeasibility.ContainerRuntimeSettings(lab, ("w1-k8s", "containerd://1.6.20"), DockerCe, out _);
        Assert.That(docker.Select(s => s.Command), Is.EqualTo(new[] { "systemctl stop docker.socket docker.service", "systemctl start docker.socket docker.service" }));
        Assert.That(leftOut, Is.Empty);
        Assert.That(containerd.Select(s => s.Command), Is.EqualTo(new[] { "systemctl stop containerd", "systemctl start containerd" }));
    }

    [Test]
    public void Only_systemctl_start_stop_restart_units_are_fitted_and_the_rest_of_the_line_stays()
    {
        var (command, dropped) = RuntimeUnitFilter.KeepExisting("systemctl stop docker.socket docker.service && sleep 1; systemctl is-active docker.socket", CentOsDocker);

        Assert.That(command, Is.EqualTo("systemctl stop docker.service && sleep 1; systemctl is-active docker.socket"));
        Assert.That(dropped, Is.EqualTo(new[] { "docker.socket" }));
    }

    [Test]
    public void The_feasibility_probe_judges_the_fitted_commands_and_does_not_refuse_the_unit_left_out()
    {
        var book = Book();
        var findings = new Dictionary<(FaultFeasibility.NeedKind, string), string>
        {
            [(FaultFeasibility.NeedKind.Program, "systemctl")] = "found",
            [(FaultFeasibility.NeedKind.Unit, "docker.service")] = "LoadState=loaded",
            [(FaultFeasibility.NeedKind.Unit, "docker.socket")] = "LoadState=not-found",
        };

        var fitted = FaultFeasibility.ContainerRuntimeSettings(book, ("w1-k8s", "docker://1.13.1"), CentOsDocker, out var leftOut);
        var asWritten = FaultFeasibility.Judge(FaultFeasibility.ContainerRuntimeSettings(book), findings, new FaultFeasibility.ProbeRoots());

        Assert.That(fitted.Select(s => s.Command), Is.EqualTo(new[] { "systemctl stop docker.service", "systemctl start docker.service" }));
        Assert.That(leftOut.Select(l => l.Setting), Is.EqualTo(new[] { "commands.stopContainerRuntime", "commands.startContainerRuntime" }));
        Assert.That(FaultFeasibility.Judge(fitted, findings, new FaultFeasibility.ProbeRoots()), Is.Empty);
        Assert.That(asWritten, Has.Some.Contains("systemd has no unit docker.socket"), "the profile's command as written would be refused");
    }

    // ---- S3 -------------------------------------------------------------------------------------------------------------

    private const string Book3 = "modprobe -r br_netfilter && systemctl restart network";
    private const string Revised3 = "modprobe -r br_netfilter && netplan apply";

    /// <summary>S3's verdict on w2-k8s from its listings before and after the inject.</summary>
    private static PodNetworkVerdict Judge(string before, string after, bool trafficStopped, string command) =>
        PodNetworkFault.Judge(Facts.Parse("w2-k8s", before), Facts.Parse("w2-k8s", after), trafficStopped, command);

    [Test]
    public void On_centos_with_calico_forwarding_off_stopped_the_traffic_and_br_netfilter_played_no_part()
    {
        var verdict = Judge(NodeListings.CalicoV39BookWorker, NodeListings.CalicoV39BookWorkerAfterNetworkRestart, trafficStopped: true, Book3);

        Assert.That(verdict.Outcome, Is.EqualTo(PodNetworkVerdict.Kind.Stopped));
        Assert.That(verdict.Text, Is.EqualTo("ip_forward went 1 → 0; bridge-nf-call-iptables went 1 → absent; br_netfilter went loaded (module) → not loaded: " +
                                             "forwarding off stopped the traffic; br_netfilter plays no part on routed pods"));
    }

    [Test]
    public void On_the_revised_edition_netplan_apply_leaves_the_routed_path_alone_so_the_check_is_not_applicable()
    {
        var verdict = Judge(NodeListings.Calico331RevisedWorker, NodeListings.Calico331RevisedWorkerAfterNetplanApply, trafficStopped: false, Revised3);

        Assert.That(verdict.Outcome, Is.EqualTo(PodNetworkVerdict.Kind.NotBrokenByTheseSteps));
        Assert.That(verdict.Text, Does.StartWith($"not applicable: '{Revised3}' leaves the routed path to the pod alone on w2-k8s " +
                                                 "(bridge-nf-call-iptables went 1 → absent; br_netfilter went loaded (module) → not loaded; ip_forward is 1)"));
        Assert.That(verdict.Text, Does.Contain("br_netfilter plays no part, so curl still answers"));
    }

    [Test]
    public void On_the_lab_forwarding_off_stopped_the_traffic_of_bridged_pods()
    {
        var verdict = Judge(NodeListings.LabBridgeWorker, NodeListings.LabBridgeWorker.Replace("@@ip_forward\n1", "@@ip_forward\n0"), trafficStopped: true,
            "sysctl -w net.ipv4.ip_forward=0");

        Assert.That(verdict, Is.EqualTo(new PodNetworkVerdict(PodNetworkVerdict.Kind.Stopped, "ip_forward went 1 → 0: forwarding off stopped the traffic")));
    }

    [Test]
    public void Curl_answering_on_a_bridged_node_or_with_forwarding_off_is_a_real_red_not_a_pass()
    {
        var lab = Facts.Parse("w2-k8s", NodeListings.LabBridgeWorker);
        var calico = Facts.Parse("w2-k8s", NodeListings.CalicoV39BookWorker);

        var bridgedUnchanged = PodNetworkFault.Judge(lab, lab, trafficStopped: false, "true");
        var routedForwardingOff = PodNetworkFault.Judge(calico, Facts.Parse("w2-k8s", NodeListings.CalicoV39BookWorkerAfterNetworkRestart), false, Book3);

        Assert.That(bridgedUnchanged.Outcome, Is.EqualTo(PodNetworkVerdict.Kind.NotStopped));
        Assert.That(bridgedUnchanged.Text, Does.Contain("commands.breakPodNetwork does not break this node's pod network"));
        Assert.That(routedForwardingOff.Outcome, Is.EqualTo(PodNetworkVerdict.Kind.NotStopped));
        Assert.That(PodNetworkFault.Judge(calico, null, false, Book3).Outcome, Is.EqualTo(PodNetworkVerdict.Kind.NotStopped),
            "a node that could not be read afterwards proves nothing: not a not-applicable");
    }

    [Test]
    public void Traffic_stopped_with_nothing_changed_says_so_instead_of_blaming_br_netfilter()
    {
        var calico = Facts.Parse("w2-k8s", NodeListings.CalicoV39BookWorker);

        var verdict = PodNetworkFault.Judge(calico, calico, trafficStopped: true, Book3);

        Assert.That(verdict.Outcome, Is.EqualTo(PodNetworkVerdict.Kind.Stopped));
        Assert.That(verdict.Text, Does.Contain("read as before: something else it did cut the path (forwarding stayed 1)"));
        Assert.That(verdict.Text, Does.Not.Contain("br_netfilter removed"));
    }
}
