using Harness.Kube;
using Harness.Kube.Kubectl;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// kube-scheduler down (its manifest moved away): a new pod is created but nobody picks a node for it, so it stays
/// Pending with no node and no Scheduled event; pods that run keep serving; scheduler back: the pod is scheduled and Running.
/// </summary>
[TestFixture, Category("scheduler")]
public sealed class SchedulerTests : ControlPlaneCheck
{
    protected override string Component => "kube-scheduler";

    /// <summary>The pod created while the scheduler is away (the book's <c>kubectl run</c>, not pinned to a node).</summary>
    private const string UnscheduledPod = "nginx-unscheduled";

    [Test, CancelAfter(Backstop)]
    [Description("Move kube-scheduler.yaml away: a new pod stays Pending with no node, a running pod keeps serving; move it back: the pod is scheduled and Running.")]
    public async Task NewPodStaysPendingWhileTheSchedulerIsAway()
    {
        await RequireStoppableAsync();
        var pod = await Workloads.RunNginxPodAsync(Workers.First);

        var stopped = await StopComponentAsync();

        await Kubectl.StepAsync($"run {UnscheduledPod} --image={Profile.Images.Nginx}");

        await Report.Step($"{UnscheduledPod} stays Pending with no node for {HoldPeriod.TotalSeconds:0} s", async () =>
        {
            var lastSeen = await Pod(UnscheduledPod).Stays(p => string.IsNullOrEmpty(p.Spec.NodeName), "to stay without a node", HoldPeriod,
                "without a scheduler nobody binds the pod to a node");
            Assert.That(lastSeen, Does.Contain("Pending"));
            Record("symptom", stopped.SinceInject);

            var wide = (await Kubectl.RunAsync("get pods -o wide")).EnsureSuccess();
            var row = KubectlTable.Parse(wide.Stdout);
            Assert.That(row.Cell(UnscheduledPod, "STATUS"), Is.EqualTo("Pending"), wide.ToString());
            Assert.That(row.Cell(UnscheduledPod, "NODE"), Is.EqualTo("<none>"), wide.ToString());
            Assert.That(await Workloads.EventsAsync(UnscheduledPod, "Scheduled"), Is.Empty, "no Scheduled event while the scheduler is away");
        });

        await RunningPodKeepsServingAsync(pod.Status.PodIP);

        var restoredAt = await StartComponentAsync(stopped);

        await Report.Step($"{UnscheduledPod} is scheduled and Running", async () =>
        {
            var ready = await Pod(UnscheduledPod).Until(p => p.IsReady(), "to be scheduled and Running", Timeouts.PodReady);
            Record("recovery", DateTimeOffset.UtcNow - restoredAt);
            var running = ready.Objects[UnscheduledPod];
            Report.Attach("kubectl get pods -o wide", Describe(running));
            Assert.That(running.Spec.NodeName, Is.Not.Empty);
            Assert.That(await Workloads.EventsAsync(UnscheduledPod, "Scheduled"), Is.Not.Empty, "the scheduler reports the binding as an event");
        });
        await Kubectl.StepAsync("get pods -o wide");
    }
}
