using Harness.Profiles;
using Harness.Safety;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.Safety;

/// <summary>What kube-system's pods say about the book's components, judged without a cluster.</summary>
public sealed class ComponentHealthTests
{
    private static readonly ClusterProfile Profile = ProfileLoader.Parse(
        "controlPlane: m-k8s\nworkers: [w1-k8s, w2-k8s]\ndiscovery: {mode: vagrant, vagrantDirectory: .}\n", "/tmp/p.yaml");

    private static readonly V1DaemonSet KubeProxy = new()
    {
        Metadata = new V1ObjectMeta { Name = "kube-proxy", Uid = "ds-uid" },
        Status = new V1DaemonSetStatus { DesiredNumberScheduled = 3, NumberReady = 3, CurrentNumberScheduled = 3 },
    };

    private static V1Pod Pod(string name, string node, bool ready = true, string? component = null, V1DaemonSet? owner = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = component is null ? null : new Dictionary<string, string> { ["component"] = component, ["tier"] = "control-plane" },
            OwnerReferences = owner is null ? null : [new V1OwnerReference { Kind = "DaemonSet", Name = owner.Metadata.Name, Uid = owner.Metadata.Uid, Controller = true }],
        },
        Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c" }] },
        Status = new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            ContainerStatuses = [new V1ContainerStatus { Name = "c", Ready = ready, RestartCount = 0, Image = "i", ImageID = "i" }],
        },
    };

    private static List<V1Pod> HealthyKubeSystem() =>
    [
        .. new[] { "kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager" }.Select(c => Pod($"{c}-m-k8s", "m-k8s", component: c)),
        .. new[] { "m-k8s", "w1-k8s", "w2-k8s" }.Select(n => Pod($"kube-proxy-{n}", n, owner: KubeProxy)),
    ];

    [Test]
    public void AHealthyControlPlaneAndKubeProxyOnEveryNodeHaveNoProblem() =>
        Assert.That(ComponentHealth.PodProblems(Profile, HealthyKubeSystem(), [KubeProxy]), Is.Empty);

    [Test]
    public void AMissingStaticPodIsNamedWithItsNode()
    {
        var pods = HealthyKubeSystem().Where(p => p.Metadata.Name != "kube-controller-manager-m-k8s").ToList();
        var problems = ComponentHealth.PodProblems(Profile, pods, [KubeProxy]);
        Assert.That(problems.Select(p => (p.Component, p.Node)), Is.EqualTo(new[] { ("kube-controller-manager", "m-k8s") }));
        Assert.That(problems[0].ToString(), Does.StartWith("kube-controller-manager on m-k8s:").And.Contain("without it: the Deployment"));
    }

    [Test]
    public void AStaticPodThatIsNotReadyIsNamed()
    {
        var pods = HealthyKubeSystem();
        pods[2] = Pod("kube-scheduler-m-k8s", "m-k8s", ready: false, component: "kube-scheduler");
        Assert.That(ComponentHealth.PodProblems(Profile, pods, [KubeProxy]).Single().ToString(), Does.StartWith("kube-scheduler on m-k8s: static pod kube-scheduler-m-k8s is not Ready"));
    }

    /// <summary>
    /// kubeadm's scheduler put back, as kubelet 1.20 reported it on the lab: its startup probe passed (started) 33 s after
    /// the manifest came back, and the pod said Ready only 72 s later, at kubelet's next sync (kubernetes/kubernetes#95140).
    /// </summary>
    [TestCase(false, true, "ContainersNotReady", ExpectedResult = 0, TestName = "A static pod started with no readiness probe is Ready by kubelet's rule before kubelet writes it down")]
    [TestCase(true, true, "ContainersNotReady", ExpectedResult = 1, TestName = "A started static pod with a readiness probe waits for kubelet's Ready")]
    [TestCase(false, false, "ContainersNotReady", ExpectedResult = 1, TestName = "A static pod whose startup probe has not passed is not Ready")]
    [TestCase(false, true, null, ExpectedResult = 1, TestName = "A started static pod the node controller marked not ready (its node stopped reporting) is not Ready")]
    public int StartedStaticPod(bool readinessProbe, bool started, string? notReadyReason)
    {
        var pods = HealthyKubeSystem();
        var scheduler = Pod("kube-scheduler-m-k8s", "m-k8s", ready: false, component: "kube-scheduler");
        var probe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = 10259, Scheme = "HTTPS" }, InitialDelaySeconds = 10, PeriodSeconds = 10 };
        scheduler.Spec.Containers[0].StartupProbe = probe;
        scheduler.Spec.Containers[0].ReadinessProbe = readinessProbe ? probe : null;
        scheduler.Status.ContainerStatuses[0].State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = DateTime.UtcNow } };
        scheduler.Status.ContainerStatuses[0].Started = started;
        scheduler.Status.Conditions[0].Reason = notReadyReason;
        pods[2] = scheduler;
        return ComponentHealth.PodProblems(Profile, pods, [KubeProxy]).Count(p => p.Component == "kube-scheduler");
    }

    [Test]
    public void KubeProxyKeptOffOneNodeIsNamedEvenThoughItsDaemonSetLooksComplete()
    {
        // A node affinity that excludes w2-k8s: the DaemonSet wants 2 pods and has 2 ready, but w2-k8s has no kube-proxy.
        var pods = HealthyKubeSystem().Where(p => p.Metadata.Name != "kube-proxy-w2-k8s").ToList();
        var problems = ComponentHealth.PodProblems(Profile, pods, [KubeProxy]);
        Assert.That(problems.Select(p => $"{p.Component} on {p.Node}"), Is.EqualTo(new[] { "kube-proxy on w2-k8s" }));
    }

    [Test]
    public void APodBeingDeletedDoesNotCountAsTheNodesKubeProxy()
    {
        var pods = HealthyKubeSystem();
        pods.Single(p => p.Metadata.Name == "kube-proxy-w1-k8s").Metadata.DeletionTimestamp = DateTime.UtcNow;
        Assert.That(ComponentHealth.PodProblems(Profile, pods, [KubeProxy]).Select(p => p.Node), Is.EqualTo(new[] { "w1-k8s" }));
    }

    [Test]
    public void APerNodeDaemonSetTheClusterDoesNotHaveIsNamedWithTheSettingToFix()
    {
        var problems = ComponentHealth.PodProblems(Profile, HealthyKubeSystem(), []);
        Assert.That(problems.Single().ToString(), Does.Contain("DaemonSet kube-proxy does not exist").And.Contain("components.perNodeDaemonSets"));
    }

    [Test]
    public void ACalicoNodeDaemonSetOutsideKubeSystemCountsOnEveryNode()
    {
        // Calico's operator runs calico-node in calico-system; the book's manifest in kube-system. Either must do.
        var calico = new V1DaemonSet { Metadata = new V1ObjectMeta { Name = "calico-node", NamespaceProperty = "calico-system", Uid = "calico-uid" } };
        var profile = ProfileLoader.Parse("controlPlane: m-k8s\nworkers: [w1-k8s, w2-k8s]\ndiscovery: {mode: vagrant, vagrantDirectory: .}\ncomponents: {perNodeDaemonSets: [kube-proxy, calico-node]}\n", "/tmp/p.yaml");
        var pods = HealthyKubeSystem();
        pods.AddRange(new[] { "m-k8s", "w1-k8s" }.Select(n => Pod($"calico-node-{n}", n, owner: calico)));
        var problems = ComponentHealth.PodProblems(profile, pods, [KubeProxy, calico]);
        Assert.That(problems.Select(p => $"{p.Component} on {p.Node}"), Is.EqualTo(new[] { "calico-node on w2-k8s" }));
    }

    [TestCase("  Ver = '1.18.4' # Kubernetes Version to install", "1.18.4", "Ver")]
    [TestCase("k8s_V = '1.36.0-1.1'", "1.36.0", "k8s_V")]
    public void TheExpectedVersionComesFromTheVagrantfileAsTheBookInstallsIt(string line, string version, string variable)
    {
        var dir = Directory.CreateTempSubdirectory("vagrantfile-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "Vagrantfile"), $"Vagrant.configure(\"2\") do |config|\n  N = 3\n{line}\nend\n");
            var profile = ProfileLoader.Parse($"controlPlane: m-k8s\nworkers: [w1-k8s]\ndiscovery: {{mode: vagrant, vagrantDirectory: {dir}}}\nkubernetes: {{version: vagrantfile}}\n", "/tmp/p.yaml");
            var (expected, source) = ComponentHealth.ExpectedVersion(profile);
            Assert.That(expected, Is.EqualTo(version));
            Assert.That(source, Does.Contain(variable).And.Contain(Path.Combine(dir, "Vagrantfile")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void AVagrantfileWithoutAVersionIsBadInputNamingTheSetting()
    {
        var dir = Directory.CreateTempSubdirectory("vagrantfile-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "Vagrantfile"), "N = 3\n");
            var profile = ProfileLoader.Parse($"controlPlane: m-k8s\nworkers: [w1-k8s]\ndiscovery: {{mode: vagrant, vagrantDirectory: {dir}}}\nkubernetes: {{version: vagrantfile}}\n", "/tmp/p.yaml");
            var e = Assert.Throws<ProfileException>(() => ComponentHealth.ExpectedVersion(profile));
            Assert.That(e!.Message, Does.Contain("kubernetes.version"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void AnExplicitVersionWinsAndEmptySkipsTheCheck()
    {
        Assert.That(ComponentHealth.ExpectedVersion(Profile).Version, Is.Null);
        var pinned = ProfileLoader.Parse("controlPlane: m-k8s\nworkers: [w1-k8s]\ndiscovery: {mode: vagrant, vagrantDirectory: .}\nkubernetes: {version: v1.19.16}\n", "/tmp/p.yaml");
        Assert.That(ComponentHealth.ExpectedVersion(pinned).Version, Is.EqualTo("1.19.16"));
    }
}
