using System.Diagnostics;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Safety;
using Harness.IntegrationTests.Support;
using NUnit.Framework;

namespace Harness.IntegrationTests.Safety;

/// <summary>
/// The feasibility probe over a real sshd on loopback: the script runs in a real shell on the "node". The kernel's
/// module layout, /proc/sys and systemd are faked under a temp folder (this machine has no loadable modules and no
/// systemd), with stand-in systemctl, modprobe and modinfo first on the probe's PATH; everything else is real.
/// </summary>
[TestFixture]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FaultFeasibilityOverSshTests
{
    private SshdServer _sshd = null!;
    private string _temp = null!;
    private FaultFeasibility.ProbeRoots _roots = null!;
    private readonly List<NodeShell> _shells = [];

    [OneTimeSetUp]
    public async Task StartSshdAndFakeAKernel()
    {
        _sshd = await SshdServer.StartAsync();
        _temp = Directory.CreateTempSubdirectory("harness-feasibility-").FullName;
        string Make(string relative) => Directory.CreateDirectory(Path.Combine(_temp, relative)).FullName;

        // br_netfilter built in (a /sys/module directory without initstate), overlay loaded from a file, dummy loadable but not loaded.
        Make("sys/module/br_netfilter/parameters");
        File.WriteAllText(Path.Combine(Make("sys/module/overlay"), "initstate"), "live\n");
        File.WriteAllText(Path.Combine(Make("proc-sys/net/ipv4"), "ip_forward"), "1\n");
        Make("lib-modules");

        var bin = Make("bin");
        Script(bin, "systemctl", """
            # stand-in: `systemctl show -p LoadState <unit>` knows kubelet and containerd only
            [ "$1" = show ] || exit 1
            case "$4" in kubelet|kubelet.service|containerd) echo LoadState=loaded ;; *) echo LoadState=not-found ;; esac
            """);
        Script(bin, "modinfo", """
            # stand-in: `modinfo -F filename <m>` finds overlay and dummy on disk, nothing else (as for a built-in module without modules.builtin)
            case "$3" in overlay|dummy) echo "/lib/modules/test/kernel/$3.ko" ;; *) echo "modinfo: ERROR: Module $3 not found." >&2; exit 1 ;; esac
            """);
        Script(bin, "modprobe", "exit 0");
        _roots = new FaultFeasibility.ProbeRoots(Path.Combine(_temp, "sys"), Path.Combine(_temp, "proc-sys"), Path.Combine(_temp, "lib-modules"), bin);
    }

    private static void Script(string bin, string name, string body)
    {
        var path = Path.Combine(bin, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                   UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    [OneTimeTearDown]
    public async Task StopSshd()
    {
        foreach (var shell in _shells) await shell.DisposeAsync();
        if (_sshd is not null) await _sshd.DisposeAsync();
        if (_temp is not null) Directory.Delete(_temp, recursive: true);
    }

    private async Task<Dictionary<string, NodeShell>> Nodes(bool throughSudo = false, params string[] names)
    {
        var hostKeys = new HostKeyStore(Path.Combine(_temp, "known_hosts.json"));
        var nodes = new Dictionary<string, NodeShell>();
        foreach (var name in names)
        {
            var endpoint = throughSudo
                ? new NodeEndpoint(name, "127.0.0.1", _sshd.Port, _sshd.SudoUser.Name,
                    new NodeCredentials(password: _sshd.SudoUser.Password, passwordSource: "test")) { Origin = "test" }
                : new NodeEndpoint(name, "127.0.0.1", _sshd.Port, "root", new NodeCredentials(privateKeyPath: _sshd.UserKeyPath)) { Origin = "test" };
            var shell = await NodeShell.ConnectAsync(endpoint, hostKeys, TimeSpan.FromSeconds(5));
            _shells.Add(shell);
            nodes[name] = shell;
        }
        return nodes;
    }

    private static ClusterProfile Profile(string breakPodNetwork, string restorePodNetwork, params string[] targets) => new()
    {
        Name = "feasibility-test",
        ControlPlane = "m-k8s",
        Workers = [.. targets],
        FaultTargets = [.. targets],
        Commands = new FaultCommands
        {
            StopKubelet = "systemctl stop kubelet", StartKubelet = "systemctl start kubelet",
            BreakPodNetwork = breakPodNetwork, RestorePodNetwork = restorePodNetwork, Reboot = "reboot",
        },
    };

    [Test]
    public async Task The_books_network_fault_on_a_kernel_with_br_netfilter_built_in_is_refused_on_every_target_with_the_fix()
    {
        var nodes = await Nodes(false, "w1-k8s", "w2-k8s");
        var book = Profile("modprobe -r br_netfilter && systemctl restart network", "modprobe br_netfilter", "w1-k8s", "w2-k8s");
        var clock = Stopwatch.StartNew();

        var problems = await FaultFeasibility.CheckAsync(book, n => nodes[n], CancellationToken.None, _roots);

        TestContext.Out.WriteLine($"{clock.Elapsed.TotalSeconds:0.00} s\n{string.Join("\n", problems)}");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        var sys = Path.Combine(_temp, "sys");
        Assert.That(problems, Is.EqualTo(new[]
        {
            $"commands.breakPodNetwork on w1-k8s, w2-k8s: 'modprobe -r br_netfilter' cannot work: br_netfilter is built into this kernel " +
            $"(no {sys}/module/br_netfilter/initstate); set commands.breakPodNetwork to a fault this kernel can make, e.g. sysctl -w net.ipv4.ip_forward=0 as the lab profile does",
            "commands.breakPodNetwork on w1-k8s, w2-k8s: 'systemctl restart network' cannot work: systemd has no unit network (LoadState=not-found); " +
            "set commands.breakPodNetwork to a fault this node can make, e.g. sysctl -w net.ipv4.ip_forward=0 as the lab profile does",
            $"commands.restorePodNetwork on w1-k8s, w2-k8s: 'modprobe br_netfilter' cannot work: br_netfilter is built into this kernel " +
            $"(no {sys}/module/br_netfilter/initstate) and modprobe cannot find it (modinfo finds none); " +
            "set commands.restorePodNetwork to undo what commands.breakPodNetwork does on this node, e.g. sysctl -w net.ipv4.ip_forward=1 as the lab profile does",
        }));
    }

    [Test]
    public async Task The_labs_commands_pass()
    {
        var nodes = await Nodes(false, "w1-k8s");

        var problems = await FaultFeasibility.CheckAsync(Profile("sysctl -w net.ipv4.ip_forward=0", "sysctl -w net.ipv4.ip_forward=1", "w1-k8s"),
            n => nodes[n], CancellationToken.None, _roots);

        Assert.That(problems, Is.Empty);
    }

    [Test]
    public async Task A_loaded_module_and_a_loadable_one_pass_while_a_missing_program_and_a_missing_key_do_not()
    {
        var nodes = await Nodes(false, "w1-k8s");
        var profile = Profile("modprobe -r overlay && netplan apply", "modprobe dummy && sysctl -w net.ipv4.no_such_key=1", "w1-k8s");

        var problems = await FaultFeasibility.CheckAsync(profile, n => nodes[n], CancellationToken.None, _roots);

        Assert.That(problems, Has.Count.EqualTo(2));
        Assert.That(problems[0], Does.StartWith("commands.breakPodNetwork on w1-k8s: 'netplan apply' cannot work: netplan is not installed"));
        Assert.That(problems[1], Does.StartWith("commands.restorePodNetwork on w1-k8s: 'sysctl -w net.ipv4.no_such_key=1' cannot work: this kernel has no sysctl net.ipv4.no_such_key"));
    }

    [Test]
    public async Task The_probe_runs_as_root_through_sudo_too()
    {
        var nodes = await Nodes(true, "w1-k8s");
        var book = Profile("modprobe -r br_netfilter", "modprobe br_netfilter", "w1-k8s");

        var problems = await FaultFeasibility.CheckAsync(book, n => nodes[n], CancellationToken.None, _roots);

        Assert.That(problems.Select(p => p.Split(':')[0]), Is.EqualTo(new[] { "commands.breakPodNetwork on w1-k8s", "commands.restorePodNetwork on w1-k8s" }));
    }

    [Test]
    public async Task Without_systemd_the_unit_check_says_systemctl_cannot_reach_it()
    {
        var nodes = await Nodes(false, "w1-k8s");
        // No stand-ins: this machine's real systemctl, which has no systemd to talk to.
        var roots = _roots with { ExtraPath = null };
        if (!File.Exists("/usr/bin/systemctl") && !File.Exists("/bin/systemctl")) Assert.Ignore("no systemctl on this machine");

        var problems = await FaultFeasibility.CheckAsync(Profile("sysctl -w net.ipv4.ip_forward=0", "sysctl -w net.ipv4.ip_forward=1", "w1-k8s"),
            n => nodes[n], CancellationToken.None, roots);

        Assert.That(problems, Has.Some.StartWith("commands.stopKubelet on w1-k8s: 'systemctl stop kubelet' cannot work: systemctl cannot reach systemd here"));
    }

    [Test]
    public async Task A_node_that_cannot_be_probed_is_a_problem_naming_it()
    {
        var nodes = await Nodes(false, "w1-k8s");

        var problems = await FaultFeasibility.CheckAsync(Profile("sysctl -w net.ipv4.ip_forward=0", "sysctl -w net.ipv4.ip_forward=1", "w1-k8s", "w2-k8s"),
            n => nodes.TryGetValue(n, out var shell) ? shell : throw new NodeUnreachableException($"{n} (127.0.0.1:1) refused the connection"),
            CancellationToken.None, _roots);

        Assert.That(problems, Is.EqualTo(new[]
        {
            "fault commands could not be checked on w2-k8s: w2-k8s (127.0.0.1:1) refused the connection; is the node reachable over SSH?",
        }));
    }
}
