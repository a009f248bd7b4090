using Harness.Checks;
using Harness.Faults;
using Harness.NUnitAdapter;
using Harness.Reporting;
using NUnit.Framework;

namespace Verification;

/// <summary>S1: kubectl works anywhere the API's access information is — and nowhere without it.</summary>
[TestFixture, Order(1), Category("api")]
public sealed class ApiAccessTests : ClusterCheck
{
    private const string CopiedKubeconfig = "/tmp/verification-admin.conf";

    /// <summary>The master's admin.conf copied to the book's w3-k8s (the book's <c>scp</c>); removing the copy undoes it.</summary>
    private Fault AdminConfCopied => Fault.OnNode("admin.conf copied to a worker", Workers.Last,
        $"copy admin.conf to {Workers.Last}:{CopiedKubeconfig}", Revert.OnNode(Workers.Last, $"rm -f {CopiedKubeconfig}"));

    protected override IEnumerable<Fault> FaultsOf(string check) => [AdminConfCopied];

    /// <summary>A copied file breaks nothing another check uses: the worker is only needed (kubectl runs there).</summary>
    protected override ClusterClaim ClaimOf(string check) => ClusterClaim.Nothing.Needing([Workers.Last, Profile.ControlPlane]);

    [Test, Category("book"), Scenario("S1"), CancelAfter(Backstop)]
    [Description("On a worker, kubectl without a kubeconfig is refused; with the master's admin.conf it lists every node Ready.")]
    public async Task KubectlOnAWorkerNeedsTheAdminKubeconfig()
    {
        var worker = Workers.Last;
        Involve(worker);
        var shell = Cluster.Node(worker);

        var getPods = $"{Kubectl.Program} get pods";
        await Report.Step($"[{worker}]$ {getPods} (no kubeconfig)", async () =>
        {
            var refused = await shell.RunAsLoginUserAsync(getPods, ct: Token);
            Report.Attach("output", refused.ToString());
            Assert.That(refused.ExitCode, Is.Not.Zero, "kubectl on a worker must fail without the API's address");
            Assert.That(refused.Stderr, Does.Contain("The connection to the server localhost:8080 was refused"));
        });

        var copied = await Report.Step($"[{worker}]$ scp {Profile.ControlPlane}:{Profile.Kubernetes.AdminKubeconfig} {CopiedKubeconfig}", () =>
            InjectAsync(AdminConfCopied, async t =>
            {
                var kubeconfig = await Cluster.ControlPlane.DownloadAsync(Profile.Kubernetes.AdminKubeconfig, t);
                await shell.UploadAsync(kubeconfig, CopiedKubeconfig, "0600", t);
            }));

        var getNodes = $"{Kubectl.Program} get nodes --kubeconfig {CopiedKubeconfig}";
        await Report.Step($"[{worker}]$ {getNodes}", async () =>
        {
            var listed = await shell.RunAsync(getNodes, ct: Token);
            Report.Attach("output", listed.ToString());
            Assert.That(listed.ExitCode, Is.Zero, listed.Stderr);
            // Read after the listing: a node another check is breaking stays claimed until it is Ready again, so a node
            // listed NotReady by that check's fault is in this set (it is listed, but its status is that check's).
            var elsewhere = Context.BrokenElsewhere;
            foreach (var node in Profile.AllNodes)
                if (elsewhere.Contains(node))
                    Assert.That(listed.Stdout, Does.Match($@"(?m)^{node}\s"), $"{node} must be listed (another check is breaking it now)");
                else
                    Assert.That(listed.Stdout, Does.Match($@"(?m)^{node}\s+Ready\s"), $"{node} must be listed Ready");
            Record("recovery", copied.SinceInject);
        });
    }
}
