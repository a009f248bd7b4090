using System.Text.RegularExpressions;
using Harness.Probes;
using NUnit.Framework;
using Facts = Harness.Probes.NodeFacts;

namespace Harness.Tests.NodeFacts;

/// <summary>
/// The node facts read in one command (issue 17): a Calico v3.9 node (the book), a Calico 3.31 node (the revised
/// edition) and the lab's bridge node, each read from its real listing; and the br_netfilter check's decision on each.
/// </summary>
public class NodeFactsTests
{
    [Test]
    public void A_calico_v3_9_node_is_routed_with_its_cni_units_and_sysctls_read()
    {
        var facts = Facts.Parse("w1-k8s", NodeListings.CalicoV39BookWorker);

        Assert.That(facts.Wiring, Is.EqualTo(PodWiring.Routed), facts.WiringEvidence);
        Assert.That(facts.WiringEvidence, Is.EqualTo("cali* veths with /32 routes (2), no bridge, tunnel tunl0"),
            "docker0 is a bridge with no pod on it: no evidence of bridged pods");
        Assert.That(facts.Cni, Is.Not.Null);
        Assert.That(facts.Cni!.File, Is.EqualTo("10-calico.conflist"));
        Assert.That(facts.Cni.PluginTypes, Is.EqualTo(new[] { "calico", "portmap" }));
        Assert.That(facts.Cni.IpamType, Is.EqualTo("calico-ipam"));
        Assert.That(facts.RuntimeUnits, Is.EquivalentTo(new[] { "docker.service" }), "CentOS's docker 1.13.1 has no docker.socket");
        Assert.That(facts.IpForward, Is.EqualTo("1"));
        Assert.That(facts.BridgeNfCallIptables, Is.EqualTo("1"));
        Assert.That(facts.BrNetfilter, Is.EqualTo(ModuleState.Loaded));
    }

    [Test]
    public void A_calico_3_31_node_is_routed_and_runs_containerd()
    {
        var facts = Facts.Parse("w1-k8s", NodeListings.Calico331RevisedWorker);

        Assert.That(facts.Wiring, Is.EqualTo(PodWiring.Routed));
        Assert.That(facts.WiringEvidence, Does.StartWith("cali* veths with /32 routes (1), no bridge"));
        Assert.That(facts.Cni!.PluginTypes, Is.EqualTo(new[] { "calico", "bandwidth", "portmap" }));
        Assert.That(facts.RuntimeUnits, Is.EquivalentTo(new[] { "containerd.service" }));
    }

    [Test]
    public void The_lab_node_is_bridged_on_cni0_with_br_netfilter_built_in()
    {
        var facts = Facts.Parse("w2-k8s", NodeListings.LabBridgeWorker);

        Assert.That(facts.Wiring, Is.EqualTo(PodWiring.Bridged));
        Assert.That(facts.WiringEvidence, Is.EqualTo("2 pod veths on bridge cni0"));
        Assert.That(facts.Cni!.File, Is.EqualTo("10-lab-bridge.conflist"));
        Assert.That(facts.Cni.MainType, Is.EqualTo("bridge"));
        Assert.That(facts.Cni.IpamType, Is.EqualTo("host-local"));
        Assert.That(facts.BrNetfilter, Is.EqualTo(ModuleState.BuiltIn));
    }

    [Test]
    public void The_routed_lab_node_is_routed_on_ptp_veths_and_the_br_netfilter_check_is_not_applicable()
    {
        var facts = Facts.Parse("w1-k8s", NodeListings.LabRoutedWorker);

        Assert.That(facts.Wiring, Is.EqualTo(PodWiring.Routed), facts.WiringEvidence);
        Assert.That(facts.WiringEvidence, Is.EqualTo("veth* veths with /32 routes (2), no bridge"),
            "ptp names its host veths veth<hex>, Calico cali<hex>: the wiring is read from the routes, not the prefix");
        Assert.That(facts.Cni!.File, Is.EqualTo("10-lab-routed.conflist"));
        Assert.That(facts.Cni.PluginTypes, Is.EqualTo(new[] { "ptp", "portmap" }));
        Assert.That(facts.Cni.IpamType, Is.EqualTo("host-local"));
        Assert.That(facts.BridgeNetfilterNotApplicable, Does.StartWith("not applicable: pods on w1-k8s are routed (ptp: "));

        var noPod = Facts.Parse("w1-k8s", Regex.Replace(NodeListings.LabRoutedWorker, @"^(\d+: veth\S+|172\.16\.1\.\d+ dev veth).*\n", "", RegexOptions.Multiline));
        Assert.That(noPod.Wiring, Is.EqualTo(PodWiring.Routed), noPod.WiringEvidence);
        Assert.That(noPod.WiringEvidence, Does.StartWith("ptp routes each pod on its own veth and /32 route, no bridge; no pod on the node yet"));
    }

    [Test]
    public void A_node_with_no_pod_yet_is_judged_by_its_cni_plugin()
    {
        // Calico's workers often have no workload pod when a check starts (calico-node itself is hostNetwork).
        var calico = Regex.Replace(NodeListings.CalicoV39BookWorker, @"^\d+: cali\S+.*\n|^172\.16\.221\.13\d dev cali.*\n", "", RegexOptions.Multiline);
        var bridge = NodeListings.LabBridgeWorker[..NodeListings.LabBridgeWorker.IndexOf("@@master cni0", StringComparison.Ordinal)] +
                     NodeListings.LabBridgeWorker[NodeListings.LabBridgeWorker.IndexOf("@@links", StringComparison.Ordinal)..];
        bridge = Regex.Replace(bridge, @"^\d+: veth\S+.*\n", "", RegexOptions.Multiline);

        var routed = Facts.Parse("w1-k8s", calico);
        var bridged = Facts.Parse("w2-k8s", bridge);

        Assert.That(routed.Wiring, Is.EqualTo(PodWiring.Routed), routed.WiringEvidence);
        Assert.That(routed.WiringEvidence, Does.Contain("no pod on the node yet"));
        Assert.That(bridged.Wiring, Is.EqualTo(PodWiring.Bridged), bridged.WiringEvidence);
    }

    [Test]
    public void A_sysctl_that_is_absent_reads_as_absent_and_an_unreadable_cni_file_names_no_type()
    {
        var facts = Facts.Parse("w1-k8s", "@@units\n@@cni\n99-broken.conf\n{ not json\n@@bridges\n@@links\n@@routes\n@@ip_forward\n1\n@@bridge-nf-call-iptables\n@@br_netfilter\nabsent\n");

        Assert.That(facts.BridgeNfCallIptables, Is.Null);
        Assert.That(facts.BrNetfilter, Is.EqualTo(ModuleState.Absent));
        Assert.That(facts.Cni!.File, Is.EqualTo("99-broken.conf"));
        Assert.That(facts.Cni.MainType, Is.Null);
        Assert.That(facts.Wiring, Is.EqualTo(PodWiring.Unknown));
        Assert.That(facts.ForwardingState, Does.Contain("net.bridge.bridge-nf-call-iptables = (absent: br_netfilter not loaded)"));
    }

    [Test]
    public void The_one_command_prints_every_section_the_parser_reads()
    {
        foreach (var section in new[] { "units", "cni", "bridges", "links", "routes", "ip_forward", "bridge-nf-call-iptables", "br_netfilter" })
            Assert.That(Facts.Script, Does.Contain($"echo @@{section};"), section);
        Assert.That(Facts.Script, Does.Contain("\"@@master $b\""));
        Assert.That(Facts.Script, Does.Contain("LC_ALL=C sort"), "libcni takes the first file by name");
        Assert.That(Facts.Script.Split('\n'), Has.Length.EqualTo(1), "one SSH command per node");
    }

    [Test]
    public void The_br_netfilter_check_is_not_applicable_on_routed_pods_and_says_why_from_the_node()
    {
        var reason = Facts.Parse("w1-k8s", NodeListings.CalicoV39BookWorker).BridgeNetfilterNotApplicable;

        Assert.That(reason, Does.StartWith("not applicable: pods on w1-k8s are routed (calico: cali* veths with /32 routes (2), no bridge, tunnel tunl0): br_netfilter plays no part"));
        Assert.That(Facts.Parse("w1-k8s", NodeListings.Calico331RevisedWorker).BridgeNetfilterNotApplicable, Does.Contain("are routed (calico:"));
    }

    [Test]
    public void The_br_netfilter_check_runs_on_bridged_pods()
    {
        Assert.That(Facts.Parse("w2-k8s", NodeListings.LabBridgeWorker).BridgeNetfilterNotApplicable, Is.Null);
        Assert.That(Facts.Parse("w2-k8s", "@@units\n").BridgeNetfilterNotApplicable, Is.Null, "unknown wiring: the check runs and its own steps decide");
    }

    [Test]
    public void The_summary_names_cni_wiring_sysctls_module_and_units()
    {
        var summary = Facts.Parse("w1-k8s", NodeListings.CalicoV39BookWorker).Summary;

        Assert.That(summary, Is.EqualTo("w1-k8s: CNI 10-calico.conflist (calico, portmap; ipam calico-ipam); pods routed (cali* veths with /32 routes (2), no bridge, tunnel tunl0); " +
                                        "ip_forward=1; bridge-nf-call-iptables=1; br_netfilter loaded (module); runtime units docker.service"));
    }
}

/// <summary>The one command run for real in /bin/sh on this machine: it must parse as POSIX sh, never fail, and print every section.</summary>
public class NodeFactsScriptTests
{
    [Test]
    public async Task The_command_runs_in_a_real_shell_and_its_output_parses()
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Facts.Script);
        using var shell = System.Diagnostics.Process.Start(start)!;
        var stdout = shell.StandardOutput.ReadToEndAsync();
        var stderr = shell.StandardError.ReadToEndAsync();
        await shell.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.That(shell.ExitCode, Is.Zero, await stderr);
        Assert.That(await stderr, Does.Not.Contain("syntax error"));
        var sections = (await stdout).Split('\n').Where(l => l.StartsWith("@@", StringComparison.Ordinal)).Select(l => l[2..]).ToList();
        Assert.That(sections, Is.SupersetOf(new[] { "units", "cni", "bridges", "links", "routes", "ip_forward", "bridge-nf-call-iptables", "br_netfilter" }));
        var facts = Facts.Parse("this-machine", await stdout);
        Assert.That(facts.IpForward, Is.EqualTo(File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim()), "read from /proc like sysctl does");
    }
}
