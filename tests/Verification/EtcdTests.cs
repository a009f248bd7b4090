using Harness.Kube.Kubectl;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// etcd down (its static-pod manifest moved away; kubeadm's stacked etcd): the API server still listens but cannot
/// read or write, so kubectl gets errors from the server (or, once kubelet restarts the failing API server, a refused
/// connection); pods that run keep serving; etcd back: the API answers and an object written before is read back.
/// </summary>
/// <remarks>
/// No <c>etcdctl snapshot save</c>/restore here: a restore rolls the whole cluster back to the snapshot (everything
/// written since, by anyone, is lost) and needs etcd and the API server stopped and etcd's data folder swapped — not
/// something to do to a shared cluster from a nightly suite. A snapshot save alone would be harmless but needs
/// etcdctl, which the lab's nodes and etcd image do not have (Debian's etcd-server without etcd-client). See
/// docs/component-checks.md.
/// </remarks>
[TestFixture, Category("etcd")]
public sealed class EtcdTests : ControlPlaneCheck
{
    protected override string Component => "etcd";

    [Test, CancelAfter(Backstop)]
    [Description("Move etcd.yaml away: kubectl gets errors from the API, a running pod keeps answering curl; move it back: an object written before is read back.")]
    public async Task TheApiFailsWithoutEtcdAndNothingIsLost()
    {
        await RequireStoppableAsync();
        var pod = await Workloads.RunNginxPodAsync(Workers.First);
        var marker = await WriteMarkerAsync("written-before-etcd-stop", Context.Name);

        var stopped = await StopComponentAsync();

        // --request-timeout: without etcd the API server holds a request until its own timeout (60 s); kubectl is told to give up sooner.
        const string getNodes = "get nodes --request-timeout=20s";
        await Report.Step($"[{ControlPlaneNode}]$ {Kubectl.Program} {getNodes} → an error from the API", async () =>
        {
            var (result, answer) = await KubectlUntilAsync(getNodes, a => a.MeansApiDown, Timeouts.Symptom);
            Record("symptom", stopped.SinceInject);
            Report.Parameter("what kubectl printed without etcd", answer.Line ?? "(nothing known)", excluded: true);
            Assert.That(result.ExitCode, Is.Not.Zero, $"kubectl must fail without etcd: {result}");
            Assert.That(answer.MeansApiDown, Is.True,
                $"kubectl's words must say the API cannot serve (Error from server …, refused, unable to connect): {answer}; {result}");
        });

        await RunningPodKeepsServingAsync(pod.Status.PodIP);

        var restoredAt = await StartComponentAsync(stopped);

        await Report.Step("kubectl get nodes answers again", async () =>
        {
            // etcd serving is not the API serving: the API server reconnects (or kubelet restarts it, after a back-off).
            var (result, answer) = await KubectlUntilAsync("get nodes", a => a.Kind == ApiAnswerKind.Answered, Timeouts.ControlPlaneRestart);
            Record("recovery", DateTimeOffset.UtcNow - restoredAt);
            Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.Answered), result.ToString());
        });

        await ExpectMarkerAsync(marker.Metadata.Name, Context.Name);
        await ExpectPodStillListedRunningAsync(NginxPod);
    }
}
