using System.Diagnostics;
using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Kube;
using Harness.Profiles;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Lab.Tests;

/// <summary>
/// Negative controls: the lab broken on purpose before a run, one component at a time. Each run must end red within
/// 60 s of its start, name the component and its node on the console and in the report, inject nothing, and turn the
/// gate RED; once the component is back, the next run is green with nothing left in the ledger. If the harness stops
/// noticing a broken component, its case here fails.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class BrokenClusterTests : LabFixture
{
    private const string Manifests = "/etc/kubernetes/manifests";
    private const string Aside = "/etc/kubernetes"; // where the revised edition's unload-kube-apiserver.sh puts the manifest

    /// <summary>One broken component: how to break it on the lab, how to put it back, and the words a red run must print.</summary>
    /// <param name="Names">What the red run must print: the component and its node, as "component on node".</param>
    /// <param name="Quotes">What the cluster or the node itself said that the red run must quote (the Ready condition's
    /// words, the crashing container's last log line), so the message is read from the cluster, not made up.</param>
    /// <param name="Result">The report's one result of a run that stopped before its checks.</param>
    public sealed record Breakage(string Name, string Names, Func<BrokenClusterTests, Task> Break, Func<BrokenClusterTests, Task> Restore,
        string[]? Quotes = null, string Result = "Cluster health")
    {
        public override string ToString() => Name;
    }

    private static Breakage StaticPodAway(string component) => new(
        $"{component} stopped (manifest moved away)", $"{component} on m-k8s",
        t => t.OnNodeAsync("m-k8s", $"mv {Manifests}/{component}.yaml {Aside}/{component}.yaml.negative-control"),
        t => t.OnNodeAsync("m-k8s", $"test -f {Aside}/{component}.yaml.negative-control && mv {Aside}/{component}.yaml.negative-control {Manifests}/{component}.yaml || true;" +
                                    RestartKubelet));

    /// <summary>
    /// After a control-plane case is put right: kubelet restarted on m-k8s, which reads its manifests at once and forgets
    /// the crash back-off of the components that failed meanwhile (up to 5 min, which the lab's settle would otherwise
    /// wait out). The lab's repair only: the verdicts under test are all taken before it.
    /// </summary>
    private const string RestartKubelet = " systemctl restart kubelet";

    public static IEnumerable<Breakage> Breakages() =>
    [
        StaticPodAway("kube-controller-manager"),
        StaticPodAway("kube-scheduler"),
        StaticPodAway("kube-apiserver"),
        // The API server stays up but every request that needs storage hangs: the run must name etcd, not time out.
        StaticPodAway("etcd") with { Quotes = ["[-]etcd"] },
        // Not stopped but crash-looping: a flag the scheduler does not know, as a typo in its manifest does.
        new("kube-scheduler crash-looping (unknown flag in its manifest)", "kube-scheduler on m-k8s",
            t => t.OnNodeAsync("m-k8s", $"sed -i 's/^    - --bind-address=/    - --verification-negative-control\\n&/' {Manifests}/kube-scheduler.yaml" +
                                        $" && grep -q -- --verification-negative-control {Manifests}/kube-scheduler.yaml"),
            t => t.OnNodeAsync("m-k8s", $"sed -i '/--verification-negative-control/d' {Manifests}/kube-scheduler.yaml &&" + RestartKubelet),
            Quotes: ["unknown flag: --verification-negative-control"]),
        new("kube-proxy pod missing on w2-k8s", "kube-proxy on w2-k8s", t => t.KeepKubeProxyOffAsync("w2-k8s"), t => t.LetKubeProxyEverywhereAsync()),
        new("kubelet stopped on w1-k8s", "kubelet on w1-k8s",
            t => t.OnNodeAsync("w1-k8s", "systemctl stop kubelet"), t => t.OnNodeAsync("w1-k8s", "systemctl start kubelet")),
        // Forwarded traffic to the worker's pods dropped. (Forwarding off, as S3 does, is no control here: the CNI
        // bridge plugin turns forwarding back on when preflight starts its pod there.)
        new("pod network broken on w3-k8s", "pod network (CNI) on w3-k8s",
            t => t.DropForwardedTrafficAsync("w3-k8s", insert: true), t => t.DropForwardedTrafficAsync("w3-k8s", insert: false)),
        // The runtime stopped: kubelet keeps running and the node still says Ready for about 30 s.
        new("container runtime stopped on w1-k8s", "container runtime on w1-k8s",
            t => t.OnNodeAsync("w1-k8s", "systemctl stop containerd"), t => t.OnNodeAsync("w1-k8s", "systemctl start containerd")),
        // The CNI config gone (the lab's lab-podnet writes it, so it is stopped first): kubelet reports NetworkPluginNotReady.
        // Put back by writing the file, not renaming it: containerd 1.6 may not see a file renamed back for minutes.
        new("CNI config removed on w2-k8s", "CNI on w2-k8s",
            t => t.OnNodeAsync("w2-k8s", "systemctl stop lab-podnet && mkdir -p /etc/cni/negative-control && mv /etc/cni/net.d/* /etc/cni/negative-control/"),
            t => t.OnNodeAsync("w2-k8s", "if [ -d /etc/cni/negative-control ]; then cp -a /etc/cni/negative-control/. /etc/cni/net.d/ && rm -rf /etc/cni/negative-control; fi; systemctl start lab-podnet"),
            Quotes: ["NetworkPluginNotReady"]),
        // Not a component of the cluster but of its reach: a worker nobody can log in to. Put back from the host (podman),
        // since SSH is what is gone; Debian's ssh.service kills only the listener, so this session survives the stop.
        new("sshd stopped on w3-k8s", "w3-k8s",
            t => t.OnNodeAsync("w3-k8s", "systemctl stop ssh.service"),
            _ => PodmanExecAsync("lab-w3-k8s", "systemctl start ssh.service"),
            Quotes: ["sshd"], Result: "Cluster unreachable"),
        // Docker Hub at its pull limit (the lab's pull-limit proxy answering 429 to every manifest GET from w1-k8s).
        new(PullLimitBreakage.Name, PullLimitBreakage.Names, t => PullLimitBreakage.BreakAsync(t.OnNodeAsync), _ => PullLimitBreakage.RestoreAsync(), PullLimitBreakage.Quotes),
    ];

    [TestCaseSource(nameof(Breakages)), CancelAfter(900_000)]
    public async Task ARunOnABrokenClusterEndsRedNamingTheComponentAndInjectsNothing(Breakage broken)
    {
        var ledgerPath = Path.Combine(Work, "ledger.jsonl");
        var metricsPath = Path.Combine(Work, "metrics.jsonl");
        await WaitHealthyAsync("before breaking it");
        TestContext.Progress.WriteLine($"negative control: {broken.Name}");
        double secondsToRed;
        try
        {
            await broken.Break(this);
            var clock = Stopwatch.StartNew();
            using var run = LiveRun.Start("Category!=heal", RunParameters("broken", ledgerPath, metricsPath));
            var exitCode = await run.WaitAsync(TimeSpan.FromMinutes(5));
            secondsToRed = clock.Elapsed.TotalSeconds;
            TestContext.Progress.WriteLine($"negative control: {broken.Name}: red after {secondsToRed:0.0} s (exit {exitCode})");

            Assert.That(exitCode, Is.Not.Zero, $"a run on a cluster with {broken.Name} must fail:\n{run.Output}");
            Assert.That(run.Output, Does.Contain(broken.Names), $"the console names the broken component and its node:\n{run.Output}");
            Assert.That(secondsToRed, Is.LessThan(60), $"the run ends red within 60 s of its start:\n{run.Output}");

            var results = Directory.GetFiles(Path.Combine(Work, "broken", "allure-results"), "*-result.json").Select(File.ReadAllText).ToList();
            foreach (var quote in broken.Quotes ?? [])
                Assert.That(run.Output, Does.Contain(quote), $"the console quotes what the cluster said ({quote}):\n{run.Output}");
            Assert.That(run.Output, Does.Not.Contain("   at "), $"no stack trace on the console:\n{run.Output}");
            var health = results.Where(r => System.Text.RegularExpressions.Regex.IsMatch(r, $"\"name\":\\s*\"{broken.Result}\"")).ToList();
            Assert.That(health, Has.Count.EqualTo(1), $"the report has one result '{broken.Result}'");
            Assert.That(health[0], Does.Contain(broken.Names), $"the '{broken.Result}' result names the component and its node");

            var ledger = new FaultLedger(ledgerPath);
            var opened = File.Exists(ledgerPath) ? File.ReadAllLines(ledgerPath).Where(l => l.Contains("\"op\":\"open\"")).ToList() : [];
            Assert.That(opened.Where(l => !l.Contains("\"fault\":\"preflight pods\"")), Is.Empty, "no fault was injected (only preflight's own probe pods, if the fault is in the pod network)");
            Assert.That(ledger.OpenEntries(), Is.Empty, "nothing is left open in the ledger");

            var gateOutput = new StringWriter();
            var gate = await VersionGate.GateCommand.RunAsync(["--profile", "lab", "--metrics", metricsPath, "--ledger", ledgerPath], gateOutput, gateOutput, LiveRun.Root);
            Assert.That(gate, Is.EqualTo(VersionGate.GateCommand.DoNotBump), $"./verify gate says RED after this run:\n{gateOutput}");
            Assert.That(gateOutput.ToString(), Does.Contain("RED"));
        }
        finally
        {
            await broken.Restore(this);
        }

        await WaitHealthyAsync($"after putting {broken.Name} right");
        using var next = LiveRun.Start("Category=api", RunParameters("restored", ledgerPath, metricsPath));
        Assert.That(await next.WaitAsync(TimeSpan.FromMinutes(5)), Is.Zero, $"the run after restoring {broken.Name} is green:\n{next.Output}");
        Assert.That(new FaultLedger(ledgerPath).OpenEntries(), Is.Empty, "nothing is left in the ledger");
        TestContext.Out.WriteLine($"{broken.Name}: red verdict {secondsToRed:0.0} s after the run started");
    }

    private async Task OnNodeAsync(string node, string command) => (await Lab.Node(node).RunAsync(command)).EnsureSuccess();

    /// <summary>A command in a lab node's container from the host, for what SSH cannot do (SSH itself stopped).</summary>
    private static async Task PodmanExecAsync(string container, string command)
    {
        var result = await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(
            CliWrap.Cli.Wrap("podman").WithArguments(["exec", container, "sh", "-c", command]).WithValidation(CliWrap.CommandResultValidation.None));
        Assert.That(result.ExitCode, Is.Zero, $"podman exec {container} {command}: {result.StandardError}");
    }

    /// <summary>A node affinity that keeps kube-proxy's DaemonSet off one node, and waits until its pod there is gone.</summary>
    private async Task KeepKubeProxyOffAsync(string node)
    {
        var notOnNode = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = "kubernetes.io/hostname", OperatorProperty = "NotIn", Values = [node] }] }],
                },
            },
        };
        var patch = k8s.KubernetesJson.Serialize(new { spec = new { template = new { spec = new { affinity = notOnNode } } } });
        await Lab.Api.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch(patch, V1Patch.PatchType.StrategicMergePatch), "kube-proxy", "kube-system");
        await Harness.Waits.Watches.Pods(Lab.Api, "kube-system", labelSelector: "k8s-app=kube-proxy").UntilAsync(
            pods => pods.Values.All(p => p.Spec.NodeName != node), $"kube-proxy's pod on {node} to be gone", TimeSpan.FromMinutes(3),
            pods => string.Join(", ", pods.Values.Select(p => $"{p.Name()}@{p.Spec.NodeName}")), TestContext.Progress.WriteLine, default);
    }

    private async Task LetKubeProxyEverywhereAsync()
    {
        var ds = await Lab.Api.AppsV1.ReadNamespacedDaemonSetAsync("kube-proxy", "kube-system");
        if (ds.Spec.Template.Spec.Affinity is null) return;
        await Lab.Api.AppsV1.PatchNamespacedDaemonSetAsync(
            new V1Patch("""[{"op":"remove","path":"/spec/template/spec/affinity"}]""", V1Patch.PatchType.JsonPatch), "kube-proxy", "kube-system");
    }

    private async Task DropForwardedTrafficAsync(string node, bool insert)
    {
        var cidr = (await Lab.Api.CoreV1.ReadNodeAsync(node)).Spec.PodCIDR;
        var rule = $"FORWARD -d {cidr} -j DROP -m comment --comment negative-control";
        await OnNodeAsync(node, insert ? $"iptables -I {rule}" : $"while iptables -C {rule} 2>/dev/null; do iptables -D {rule}; done");
    }

    private Task WaitHealthyAsync(string when) => LabHealth.WaitHealthyAsync(Lab, when);
}
