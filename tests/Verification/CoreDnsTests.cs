using Harness.Checks;
using Harness.Faults;
using Harness.Probes;
using Harness.Profiles;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// CoreDNS scaled to 0 (where the profile has it, <c>components.coreDns</c>): <c>nslookup kubernetes.default</c> from a
/// pod fails; scaled back: it resolves to the <c>kubernetes</c> Service's ClusterIP. On a cluster without CoreDNS (the
/// lab) the check is skipped as not applicable, never passed.
/// </summary>
[TestFixture, Category("coredns"), Category(ContainerRuntimeTests.NodeComponents)]
public sealed class CoreDnsTests : NodeComponentCheck
{
    private const string KubeSystem = "kube-system";
    private string Deployment => Profile.Components.CoreDnsDeployment;

    /// <summary>kubeadm's CoreDNS runs 2 replicas; the check reads the real count before it scales and reverts to that.</summary>
    private const int KubeadmReplicas = 2;

    private Fault ScaledToZero(int replicas) => Fault.InCluster("CoreDNS scaled to 0", $"{KubeSystem}/{Deployment}",
        $"kubectl -n {KubeSystem} scale deployment {Deployment} --replicas=0", Revert.ScaleDeploymentBack(KubeSystem, Deployment, replicas));

    protected override IEnumerable<Fault> FaultsOf(string check) => [ScaledToZero(KubeadmReplicas)];

    /// <summary>Every node: cluster DNS is gone for every pod, and other checks' steady state looks at CoreDNS.</summary>
    protected override ClusterClaim ClaimOf(string check) => ClaimOfFaults(check).Breaking(Profile.AllNodes);

    protected override string? NotApplicableOn(ClusterProfile profile) => NodeComponentApplicability.CoreDns(profile);

    private const string Client = "dns-client";
    private const string Lookup = "nslookup kubernetes.default";

    [Test, CancelAfter(Backstop)]
    [Description("Scale CoreDNS to 0: nslookup kubernetes.default from a pod fails; scale it back: it resolves.")]
    public async Task LookupsFailWhileCoreDnsIsScaledToZero()
    {
        var replicas = await Report.Step($"kubectl -n {KubeSystem} get deployment {Deployment}", async () =>
        {
            var deployment = await Api.AppsV1.ReadNamespacedDeploymentAsync(Deployment, KubeSystem, cancellationToken: Token);
            var count = deployment.Spec.Replicas ?? 1;
            Report.Attach("replicas", $"{count} ({deployment.Status?.ReadyReplicas ?? 0} ready)");
            Assert.That(count, Is.GreaterThan(0), "CoreDNS runs before it is scaled away");
            return count;
        });
        var kubernetesIp = (await Api.CoreV1.ReadNamespacedServiceAsync("kubernetes", "default", cancellationToken: Token)).Spec.ClusterIP;
        await Workloads.RunPodAsync(Client, Profile.Images.DnsUtils, Workers.First, command: ["sleep", "3600"]);

        await Report.Step($"kubectl exec {Client} -- {Lookup} → {kubernetesIp}", async () =>
        {
            var lookup = await PollAsync(_ => LookupAsync(), r => DnsLookup.Resolved(r, kubernetesIp), Timeouts.Symptom);
            Assert.That(DnsLookup.Resolved(lookup, kubernetesIp), Is.True, $"cluster DNS answers before the fault: {lookup}");
        });

        var fault = ScaledToZero(replicas);
        var scaled = await Report.Step(fault.Command, () =>
            InjectAsync(fault, t => Cluster.Deployments.ScaleAsync(KubeSystem, Deployment, 0, t)));

        await Report.Step($"kubectl exec {Client} -- {Lookup} fails", async () =>
        {
            var lookup = await PollAsync(_ => LookupAsync(), r => !DnsLookup.Resolved(r, kubernetesIp), Timeouts.Symptom);
            Record("symptom", scaled.SinceInject);
            Assert.That(DnsLookup.Resolved(lookup, kubernetesIp), Is.False, $"nobody answers the cluster's DNS: {lookup}");
        });

        await Report.Step($"kubectl -n {KubeSystem} scale deployment {Deployment} --replicas={replicas} → {Lookup} resolves", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(scaled);
            var lookup = await PollAsync(_ => LookupAsync(), r => DnsLookup.Resolved(r, kubernetesIp), Timeouts.Symptom);
            Record("recovery", DateTimeOffset.UtcNow - started);
            Assert.That(DnsLookup.Resolved(lookup, kubernetesIp), Is.True, $"CoreDNS answers again: {lookup}");
        });
    }

    private async Task<Harness.Nodes.CommandResult> LookupAsync() => await Kubectl.RunAsync($"exec {Client} -- {Lookup}", TimeSpan.FromSeconds(60));
}
