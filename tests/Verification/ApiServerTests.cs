using Harness.Kube.Kubectl;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// kube-apiserver down, as the revised edition's section 3.1.6 takes it down (<c>unload-kube-apiserver.sh</c> moves
/// its manifest away): kubectl is refused, while pods that run keep serving; manifest back (<c>load-kube-apiserver.sh</c>):
/// the API answers, and what was created before is still there (it lives in etcd, not in the API server).
/// </summary>
[TestFixture, Category("apiserver")]
public sealed class ApiServerTests : ControlPlaneCheck
{
    protected override string Component => "kube-apiserver";

    [Test, CancelAfter(Backstop)]
    [Description("Move kube-apiserver.yaml away: kubectl get nodes is refused, a running pod keeps answering curl; move it back: the API answers and the objects created before are still there.")]
    public async Task KubectlIsRefusedWhileTheApiServerIsAwayAndNothingIsLost()
    {
        await RequireStoppableAsync();
        var pod = await Workloads.RunNginxPodAsync(Workers.First);
        var marker = await WriteMarkerAsync("written-before-apiserver-stop", Context.Name);
        await Kubectl.StepAsync("get nodes");

        var stopped = await StopComponentAsync();

        await Report.Step($"[{ControlPlaneNode}]$ {Kubectl.Program} get nodes → The connection to the server … was refused", async () =>
        {
            // While the API server shuts down kubectl may first see a reset connection; nothing listening reads "refused".
            var (result, answer) = await KubectlUntilAsync("get nodes", a => a.Kind == ApiAnswerKind.Refused, Timeouts.Symptom);
            Record("symptom", stopped.SinceInject);
            Assert.That(result.ExitCode, Is.Not.Zero, $"kubectl must fail without the API server: {result}");
            Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.Refused), $"kubectl's own words: {result}");
            Assert.That(result.Stderr, Does.Contain($"The connection to the server {answer.Server} was refused - did you specify the right host or port?"));
        });

        await RunningPodKeepsServingAsync(pod.Status.PodIP);

        var restoredAt = await StartComponentAsync(stopped);

        await Report.Step("kubectl get nodes answers again", async () =>
        {
            var (result, answer) = await KubectlUntilAsync("get nodes", a => a.Kind == ApiAnswerKind.Answered, Timeouts.ControlPlaneRestart);
            Record("recovery", DateTimeOffset.UtcNow - restoredAt);
            Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.Answered), result.ToString());
            foreach (var node in Profile.AllNodes)
                Assert.That(KubectlTable.Parse(result.Stdout).Row(node), Is.Not.Null, $"{node} is listed: {result}");
        });

        await ExpectPodStillListedRunningAsync(NginxPod);
        await ExpectMarkerAsync(marker.Metadata.Name, Context.Name);
    }
}
