using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Harness.Faults;
using Harness.Nodes;
using Harness.Probes;
using Harness.Profiles;
using Harness.Reporting;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.NodeComponents;

/// <summary>
/// What the node-component checks read: kubelet's words on the node's Ready condition and in a pod's events, the
/// calls made from inside a pod (the script run in a real bash against a local listener), nslookup's transcripts,
/// the DaemonSet exclusion and which profile has CoreDNS.
/// </summary>
public class NodeComponentWordsTests
{
    // ---- kubelet's words ---------------------------------------------------------------------------------------------

    // kubelet 1.20 pkg/kubelet/runtime.go, pleg/generic.go; 1.18 with dockershim; as the Ready condition's message.
    [TestCase("container runtime is down")]
    [TestCase("container runtime is down,PLEG is not healthy: pleg was last seen active 3m0.412s ago; threshold is 3m0s")]
    [TestCase("PLEG is not healthy: pleg has yet to be successful")]
    [TestCase("container runtime not ready: RuntimeReady=false reason:DockerDaemonNotReady message:docker: failed to get docker version: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")]
    public void The_ready_condition_of_a_node_without_its_runtime_reads_as_runtime_down(string message) =>
        Assert.That(KubeletWords.SaysRuntimeDown(message), Is.True);

    [TestCase("kubelet is posting ready status")]
    [TestCase("Kubelet stopped posting node status.")]
    [TestCase("runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")]
    [TestCase(null)]
    public void Other_ready_messages_do_not(string? message) => Assert.That(KubeletWords.SaysRuntimeDown(message), Is.False);

    [TestCase("NetworkNotReady", "network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")]
    [TestCase("NetworkNotReady", "network is not ready: runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized")]
    [TestCase("FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"0a1b\": no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config")]
    [TestCase("FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to set up sandbox container \"1c2d\" network for pod \"nginx\": networkPlugin cni failed to set up pod \"nginx_default\" network: cni config uninitialized")]
    public void A_pod_without_a_network_is_reported_in_kubelets_words(string reason, string message)
    {
        Assert.That(KubeletWords.NetworkEventReasons, Does.Contain(reason));
        Assert.That(KubeletWords.SaysNetworkPluginNotReady(message), Is.True);
    }

    [TestCase("Failed to pull image \"nginx:1.17.23\": rpc error: code = NotFound desc = failed to pull and unpack image")]
    [TestCase("Successfully assigned verification/nginx to w3-k8s")]
    [TestCase("Failed to create pod sandbox: rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing dial unix /run/containerd/containerd.sock: connect: connection refused\"")]
    public void Other_events_are_not_a_network_plugin_error(string message) => Assert.That(KubeletWords.SaysNetworkPluginNotReady(message), Is.False);

    // ---- calls from inside a pod -------------------------------------------------------------------------------------

    [Test]
    public void Outcomes_are_read_per_call_and_counted_per_backend()
    {
        var outcomes = PodCalls.Parse("answer echo-w1-k8s\nfailed\nanswer echo-w3-k8s\r\nanswer echo-w1-k8s\n\nfailed\nsomething kubectl said\n");
        Assert.That(outcomes, Is.EqualTo(new string?[] { "echo-w1-k8s", null, "echo-w3-k8s", "echo-w1-k8s", null }));
        var counts = PodCalls.Count(outcomes);
        Assert.That(counts, Is.EquivalentTo(new Dictionary<string, int> { ["echo-w1-k8s"] = 2, ["echo-w3-k8s"] = 1, ["failed"] = 2 }));
        Assert.That(PodCalls.Describe(counts), Is.EqualTo("echo-w1-k8s: 2, echo-w3-k8s: 1, failed: 2"));
    }

    [Test]
    public void The_script_refuses_anything_but_an_address() =>
        Assert.Throws<ArgumentException>(() => PodCalls.Script("10.96.0.1; rm -rf /", 80, 1, TimeSpan.FromSeconds(1)));

    [Test]
    public async Task The_script_in_a_real_bash_counts_answers_and_failures()
    {
        // echo-hname's answer: its pod's name as the body's last line.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var served = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                // The whole request before the answer: a close with unread bytes is a reset, which can cost the answer.
                var request = new StringBuilder();
                var buffer = new byte[1024];
                while (!request.ToString().Contains("\r\n\r\n") && await stream.ReadAsync(buffer, stop.Token) is var read and > 0)
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\necho-hname-7d9f-abcde\n"), stop.Token);
            }
        });

        // Each call's timeout is generous: under load (CI builds beside it) this in-process server answered one call
        // after 2 s once, which the script rightly counts as failed; the test is about the words, not the timing.
        var answered = await Bash(PodCalls.Script("127.0.0.1", port, 3, TimeSpan.FromSeconds(15)));
        // A closed port: refused at once.
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var refused = await Bash(PodCalls.Script("127.0.0.1", closedPort, 2, TimeSpan.FromSeconds(2)));
        stop.Cancel();
        listener.Stop();
        try { await served; } catch (OperationCanceledException) { } catch (ObjectDisposedException) { } catch (SocketException) { }

        Assert.That(PodCalls.Parse(answered), Is.EqualTo(new[] { "echo-hname-7d9f-abcde", "echo-hname-7d9f-abcde", "echo-hname-7d9f-abcde" }), answered);
        Assert.That(PodCalls.Parse(refused), Is.EqualTo(new string?[] { null, null }), refused);
    }

    [Test]
    public void The_kubectl_exec_quotes_the_script_for_the_control_planes_shell()
    {
        var exec = PodCalls.KubectlExec("client", "10.96.12.7", 80, 9, TimeSpan.FromSeconds(5));
        Assert.That(exec, Does.StartWith("exec client -- bash -c '"));
        Assert.That(exec, Does.Contain("seq 1 9").And.Contain("/dev/tcp/10.96.12.7/80").And.Contain("timeout 5"));
    }

    private static async Task<string> Bash(string script)
    {
        var start = new ProcessStartInfo("/bin/bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await stdout;
    }

    // ---- nslookup ----------------------------------------------------------------------------------------------------

    private static CommandResult Lookup(int exit, string stdout, string stderr = "") => new("m-k8s", "kubectl exec dns-client -- nslookup kubernetes.default", exit, stdout, stderr, TimeSpan.Zero);

    [Test]
    public void Nslookup_resolves_when_it_names_the_kubernetes_services_ip()
    {
        var busybox = Lookup(0, "Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\nName:      kubernetes.default\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n");
        var glibc = Lookup(0, "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n");
        Assert.That(DnsLookup.Resolved(busybox, "10.96.0.1"), Is.True);
        Assert.That(DnsLookup.Resolved(glibc, "10.96.0.1"), Is.True);
        Assert.That(DnsLookup.Resolved(busybox, "10.96.0.2"), Is.False, "another address is not the kubernetes Service");
    }

    [Test]
    public void Nslookup_without_a_dns_server_does_not_resolve()
    {
        var busybox = Lookup(1, "Server:    10.96.0.10\nAddress 1: 10.96.0.10\n\n", "nslookup: can't resolve 'kubernetes.default'\ncommand terminated with exit code 1");
        var dnsutils = Lookup(1, ";; connection timed out; no servers could be reached\n", "command terminated with exit code 1");
        var serverOnly = Lookup(0, "Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n");
        Assert.That(DnsLookup.Resolved(busybox, "10.96.0.1"), Is.False);
        Assert.That(DnsLookup.Resolved(dnsutils, "10.96.0.1"), Is.False);
        Assert.That(DnsLookup.Resolved(serverOnly, "10.96.0.1"), Is.False, "10.96.0.10 is the DNS server, not an answer for 10.96.0.1");
    }

    // ---- the DaemonSet exclusion -------------------------------------------------------------------------------------

    [Test]
    public void The_exclusion_is_recognised_for_its_node_only()
    {
        var ours = DaemonSetExclusion.Affinity("w2-k8s");
        Assert.Multiple(() =>
        {
            Assert.That(DaemonSetExclusion.IsOurs(ours, "w2-k8s"), Is.True);
            Assert.That(DaemonSetExclusion.StateOf(ours, "w2-k8s"), Is.EqualTo(DaemonSetExclusion.ExclusionState.Ours));
            Assert.That(DaemonSetExclusion.StateOf(ours, "w1-k8s"), Is.EqualTo(DaemonSetExclusion.ExclusionState.Foreign), "excluding another node is not this revert's");
            Assert.That(DaemonSetExclusion.StateOf(null, "w2-k8s"), Is.EqualTo(DaemonSetExclusion.ExclusionState.Absent));
        });
    }

    [Test]
    public void An_affinity_with_anything_more_is_somebody_elses()
    {
        var extraTerm = DaemonSetExclusion.Affinity("w2-k8s");
        extraTerm.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions.Add(
            new V1NodeSelectorRequirement { Key = "kubernetes.io/os", OperatorProperty = "In", Values = ["linux"] });
        var preferred = DaemonSetExclusion.Affinity("w2-k8s");
        preferred.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = [new V1PreferredSchedulingTerm { Weight = 1, Preference = new V1NodeSelectorTerm() }];
        var pods = DaemonSetExclusion.Affinity("w2-k8s");
        pods.PodAntiAffinity = new V1PodAntiAffinity();
        var twoNodes = DaemonSetExclusion.Affinity("w2-k8s");
        twoNodes.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values.Add("w3-k8s");

        foreach (var affinity in new[] { extraTerm, preferred, pods, twoNodes })
            Assert.That(DaemonSetExclusion.StateOf(affinity, "w2-k8s"), Is.EqualTo(DaemonSetExclusion.ExclusionState.Foreign));
    }

    [Test]
    public void The_patch_reads_back_as_the_exclusion()
    {
        var patch = DaemonSetExclusion.Patch("w2-k8s");
        Assert.That(patch, Does.Contain("\"kubernetes.io/hostname\"").And.Contain("\"NotIn\"").And.Contain("\"w2-k8s\""));
        var parsed = k8s.KubernetesJson.Deserialize<V1DaemonSet>(patch);
        Assert.That(DaemonSetExclusion.IsOurs(parsed.Spec.Template.Spec.Affinity, "w2-k8s"), Is.True);
        Assert.That(DaemonSetExclusion.KubectlCommand("kube-system", "kube-proxy", "w2-k8s"), Does.StartWith("kubectl -n kube-system patch daemonset kube-proxy -p '{"));
    }

    [TestCase(2, 2, 3, 3, 3, 3, true)]
    [TestCase(2, 1, 3, 3, 3, 3, false)] // the controller has not seen the new template yet
    [TestCase(2, 2, 3, 2, 3, 3, false)] // one pod still of the old template
    [TestCase(2, 2, 3, 3, 2, 2, false)] // one pod not ready
    public void A_daemonset_has_rolled_out_when_every_pod_is_updated_and_ready(long generation, long observed, int desired, int updated, int ready, int available, bool rolledOut)
    {
        var ds = new V1DaemonSet
        {
            Metadata = new V1ObjectMeta { Generation = generation },
            Status = new V1DaemonSetStatus
            {
                ObservedGeneration = observed, DesiredNumberScheduled = desired, UpdatedNumberScheduled = updated,
                NumberReady = ready, NumberAvailable = available, CurrentNumberScheduled = desired, NumberMisscheduled = 0,
            },
        };
        Assert.That(DaemonSetExclusion.RolledOut(ds), Is.EqualTo(rolledOut));
    }

    // ---- CoreDNS: applicable where the profile has it ----------------------------------------------------------------

    private static readonly string ProfilesDirectory = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles");

    [TestCase("lab"), TestCase("lab-revised")]
    public void On_a_lab_without_coredns_the_check_is_not_applicable_and_says_why(string name)
    {
        var reason = NodeComponentApplicability.CoreDns(ProfileLoader.Load(name, ProfilesDirectory));
        Assert.That(reason, Does.StartWith("not applicable").And.Contain($"profile '{name}'").And.Contain("components.coreDns: false"));
    }

    [TestCase("book"), TestCase("revised")]
    public void Where_the_profile_has_coredns_the_check_applies(string name) =>
        Assert.That(NodeComponentApplicability.CoreDns(ProfileLoader.Load(name, ProfilesDirectory)), Is.Null);

    [Test]
    public void A_user_who_says_the_lab_has_coredns_gets_the_check() =>
        Assert.That(NodeComponentApplicability.CoreDns(ProfileLoader.Load("lab", ProfilesDirectory, new Dictionary<string, string> { ["components.coreDns"] = "true" })), Is.Null);
}
