using NUnit.Framework;
using static Harness.Safety.FaultFeasibility;

namespace Harness.Tests.Safety;

/// <summary>The pure half of the feasibility preflight: what a command needs, and what a probe's findings mean.</summary>
public class FaultFeasibilityTests
{
    private static readonly ProbeRoots Real = new();

    private static IEnumerable<(NeedKind, string)> Needs(string command) => Parse(command).Select(n => (n.Kind, n.Name));

    [Test]
    public void The_books_network_fault_needs_modprobe_a_removable_module_systemctl_and_the_network_unit()
    {
        var needs = Parse("modprobe -r br_netfilter && systemctl restart network");

        Assert.That(needs.Select(n => (n.Kind, n.Name, n.SimpleCommand)), Is.EqualTo(new[]
        {
            (NeedKind.Program, "modprobe", "modprobe -r br_netfilter"),
            (NeedKind.ModuleUnload, "br_netfilter", "modprobe -r br_netfilter"),
            (NeedKind.Program, "systemctl", "systemctl restart network"),
            (NeedKind.Unit, "network", "systemctl restart network"),
        }));
    }

    [TestCase("sysctl -w net.ipv4.ip_forward=0", new[] { "Program sysctl", "SysctlKey net.ipv4.ip_forward" })]
    [TestCase("sysctl net.bridge.bridge-nf-call-iptables=0", new[] { "Program sysctl", "SysctlKey net.bridge.bridge-nf-call-iptables" })]
    [TestCase("modprobe br_netfilter; reboot", new[] { "Program modprobe", "ModuleLoad br_netfilter", "Program reboot" })]
    [TestCase("modprobe nf_conntrack hashsize=1024", new[] { "Program modprobe", "ModuleLoad nf_conntrack" })]
    [TestCase("modprobe -rv br_netfilter || true", new[] { "Program modprobe", "ModuleUnload br_netfilter", "Program true" })]
    [TestCase("rmmod br_netfilter overlay", new[] { "Program rmmod", "ModuleUnload br_netfilter", "ModuleUnload overlay" })]
    [TestCase("sudo -n systemctl stop kubelet.service containerd", new[] { "Program systemctl", "Unit kubelet.service", "Unit containerd" })]
    [TestCase("LANG=C systemctl daemon-reload", new[] { "Program systemctl" })]
    [TestCase("timeout 10 netplan apply | cat", new[] { "Program netplan", "Program cat" })]
    [TestCase("/usr/sbin/reboot &", new[] { "Program /usr/sbin/reboot" })]
    [TestCase("sh -c 'ip link set cni0 down'", new[] { "Program sh" })]
    public void Commands_are_split_into_simple_commands_and_their_needs(string command, string[] expected) =>
        Assert.That(Needs(command).Select(n => $"{n.Item1} {n.Item2}"), Is.EqualTo(expected));

    private static Dictionary<(NeedKind, string), string> Findings(params (NeedKind Kind, string Name, string Finding)[] lines) =>
        lines.ToDictionary(l => (l.Kind, l.Name), l => l.Finding);

    [Test]
    public void Removing_a_built_in_module_is_refused_naming_the_setting_the_reason_and_the_labs_alternative()
    {
        var problems = Judge([new FaultSetting("commands.breakPodNetwork", "modprobe -r br_netfilter && systemctl restart network")],
            Findings((NeedKind.Program, "modprobe", "found"), (NeedKind.ModuleLoad, "br_netfilter", "builtin notfound"),
                (NeedKind.Program, "systemctl", "found"), (NeedKind.Unit, "network", "LoadState=loaded")), Real);

        Assert.That(problems, Is.EqualTo(new[]
        {
            "commands.breakPodNetwork on {node}: 'modprobe -r br_netfilter' cannot work: br_netfilter is built into this kernel " +
            "(no /sys/module/br_netfilter/initstate); set commands.breakPodNetwork to a fault this kernel can make, " +
            "e.g. sysctl -w net.ipv4.ip_forward=0 as the lab profile does",
        }));
    }

    [TestCase("loaded file", null)]
    [TestCase("builtin notfound", "br_netfilter is built into this kernel (no /sys/module/br_netfilter/initstate)")]
    [TestCase("absent builtin", "br_netfilter is built into this kernel (modinfo/modules.builtin say so)")]
    [TestCase("absent file", "br_netfilter is not loaded (no /sys/module/br_netfilter)")]
    [TestCase("absent notfound", "this kernel has no loadable module br_netfilter")]
    [TestCase("absent nomodinfo", "this kernel has no loadable module br_netfilter")]
    public void Removing_a_module_works_only_when_it_is_loaded_from_a_file(string finding, string? why)
    {
        var problems = Judge([new FaultSetting("commands.breakPodNetwork", "modprobe -r br_netfilter")],
            Findings((NeedKind.Program, "modprobe", "found"), (NeedKind.ModuleLoad, "br_netfilter", finding)), Real);

        if (why is null) Assert.That(problems, Is.Empty);
        else Assert.That(problems.Single(), Does.Contain($"cannot work: {why}"));
    }

    [TestCase("absent file", null)]
    [TestCase("loaded file", null)]
    [TestCase("absent builtin", null)] // listed in modules.builtin: modprobe loads it as a no-op
    [TestCase("builtin notfound", "br_netfilter is built into this kernel (no /sys/module/br_netfilter/initstate) and modprobe cannot find it")]
    [TestCase("absent notfound", "this kernel has no loadable module br_netfilter")]
    public void Loading_a_module_works_when_modprobe_can_find_it(string finding, string? why)
    {
        var problems = Judge([new FaultSetting("commands.restorePodNetwork", "modprobe br_netfilter")],
            Findings((NeedKind.Program, "modprobe", "found"), (NeedKind.ModuleLoad, "br_netfilter", finding)), Real);

        if (why is null) Assert.That(problems, Is.Empty);
        else Assert.That(problems.Single(), Does.Contain($"cannot work: {why}")
            .And.EndWith("set commands.restorePodNetwork to undo what commands.breakPodNetwork does on this node, e.g. sysctl -w net.ipv4.ip_forward=1 as the lab profile does"));
    }

    [Test]
    public void A_missing_program_is_the_one_problem_of_its_command()
    {
        var problems = Judge([new FaultSetting("commands.breakPodNetwork", "modprobe -r br_netfilter && netplan apply")],
            Findings((NeedKind.Program, "modprobe", "missing"), (NeedKind.ModuleLoad, "br_netfilter", "absent nomodinfo"),
                (NeedKind.Program, "netplan", "missing")), Real);

        Assert.That(problems, Is.EqualTo(new[]
        {
            "commands.breakPodNetwork on {node}: 'modprobe -r br_netfilter' cannot work: modprobe is not installed (`command -v modprobe` finds nothing in root's PATH); " +
            "install modprobe on the node, or set commands.breakPodNetwork to a command this node has",
            "commands.breakPodNetwork on {node}: 'netplan apply' cannot work: netplan is not installed (`command -v netplan` finds nothing in root's PATH); " +
            "install netplan on the node, or set commands.breakPodNetwork to a command this node has",
        }));
    }

    [TestCase("LoadState=loaded", null)]
    [TestCase("LoadState=not-found", "systemd has no unit kubelet (LoadState=not-found); set commands.stopKubelet to a service this node has")]
    [TestCase("LoadState=masked", "unit kubelet cannot be used (LoadState=masked)")]
    [TestCase("System has not been booted with systemd as init system (PID 1). Can't operate.", "systemctl cannot reach systemd here (System has not been booted")]
    public void A_unit_must_be_known_to_a_running_systemd(string finding, string? why)
    {
        var problems = Judge([new FaultSetting("commands.stopKubelet", "systemctl stop kubelet")],
            Findings((NeedKind.Program, "systemctl", "found"), (NeedKind.Unit, "kubelet", finding)), Real);

        if (why is null) Assert.That(problems, Is.Empty);
        else Assert.That(problems.Single(), Does.StartWith("commands.stopKubelet on {node}: 'systemctl stop kubelet' cannot work: ").And.Contain(why));
    }

    [Test]
    public void A_sysctl_key_the_kernel_lacks_is_named_with_its_proc_path()
    {
        var problems = Judge([new FaultSetting("commands.breakPodNetwork", "sysctl -w net.bridge.bridge-nf-call-iptables=0")],
            Findings((NeedKind.Program, "sysctl", "found"), (NeedKind.SysctlKey, "net.bridge.bridge-nf-call-iptables", "missing")), Real);

        Assert.That(problems.Single(), Does.Contain("this kernel has no sysctl net.bridge.bridge-nf-call-iptables (no /proc/sys/net/bridge/bridge-nf-call-iptables)"));
    }

    [Test]
    public void The_probe_output_is_read_line_by_line_and_junk_is_ignored()
    {
        var findings = ParseProbeOutput("program\tmodprobe\tfound\nmotd: welcome\nunit\tnetwork\tLoadState=not-found \nmodule\tbr_netfilter\tbuiltin notfound\n");

        Assert.That(findings, Is.EquivalentTo(new Dictionary<(NeedKind, string), string>
        {
            [(NeedKind.Program, "modprobe")] = "found",
            [(NeedKind.Unit, "network")] = "LoadState=not-found",
            [(NeedKind.ModuleLoad, "br_netfilter")] = "builtin notfound",
        }));
    }
}
