using Harness.ClusterAccess;
using k8s;
using NUnit.Framework;

namespace Lab.Tests;

/// <summary>
/// S3's reboot is seen by the node's boot id, as on the book's VMs. The lab gives each node start its own boot id; a
/// node told to keep it (/etc/lab/keep-boot-id) restarts without one: the harness must then say it did not reboot.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class RebootDetectionTests : LabFixture
{
    private const string KeepBootId = "/etc/lab/keep-boot-id";

    [Test, CancelAfter(900_000)]
    public async Task ARebootIsSeenByANewBootIdAndARestartWithoutOneIsNot()
    {
        var worker = Lab.Profile.Workers[^1];
        await LabHealth.WaitHealthyAsync(Lab, "before rebooting");

        var bootBefore = await Lab.Reboots.BootIdAsync(worker, default);
        var kubeletBootBefore = (await Lab.Api.CoreV1.ReadNodeAsync(worker)).Status.NodeInfo.BootID;
        Assert.That(kubeletBootBefore, Is.EqualTo(bootBefore), "kubelet reports the node's own boot id, as on a VM");
        var took = await Lab.Reboots.RebootAsync(worker, default);
        var bootAfter = await Lab.Reboots.BootIdAsync(worker, default);
        TestContext.Out.WriteLine($"{worker}: boot id {bootBefore} → {bootAfter}, back and Ready after {took.TotalSeconds:0.0} s");
        Assert.That(bootAfter, Is.Not.EqualTo(bootBefore));
        Assert.That((await Lab.Api.CoreV1.ReadNodeAsync(worker)).Status.NodeInfo.BootID, Is.EqualTo(bootAfter),
            "kubelet reports the new boot (kubectl describe node: Boot ID)");
        await LabHealth.WaitHealthyAsync(Lab, "after the reboot");

        (await Lab.Node(worker).RunAsync($"mkdir -p /etc/lab && touch {KeepBootId}")).EnsureSuccess();
        try
        {
            var error = await Assert.ThrowsAsync<NodeDidNotRebootException>(async () => await Lab.Reboots.RebootAsync(worker, default));
            TestContext.Out.WriteLine(error!.Message);
            Assert.That(error.Message, Does.Contain($"{worker} went away and answered again, but did not reboot").And.Contain(bootAfter));
        }
        finally
        {
            (await Lab.Node(worker).RunAsync($"rm -f {KeepBootId}")).EnsureSuccess();
        }
        await LabHealth.WaitHealthyAsync(Lab, "after the restart without a new boot id");
    }
}
