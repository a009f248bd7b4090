using Harness.Kube;
using Harness.Kube.Operations;
using Harness.Reporting;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>S9: update a Deployment's image, survive a bad tag with rollout undo, and go back to revision 1.</summary>
[TestFixture, Category("rollout")]
public sealed class RolloutTests : ClusterCheck
{
    private const string Name = "rollout-nginx";

    [Injects("missing image tag", "rollout-nginx", "kubectl set image deployment rollout-nginx nginx=<rolloutMissing>", "kubectl rollout undo deployment rollout-nginx")]
    [Test, CancelAfter(900_000)]
    [Description("rollout-nginx 1.15.12 → 1.16.0; a missing tag exceeds its progress deadline; rollout undo restores 1.16.0; undo --to-revision=1 restores 1.15.12.")]
    public async Task RolloutUndoRecoversFromABadImageTag()
    {
        var images = Profile.Images;

        await Report.Step("kubectl apply -f ./rollout-nginx.yaml --record", async () =>
        {
            await Api.AppsV1.CreateNamespacedDeploymentAsync(
                Manifests.RolloutNginx(images.RolloutInitial, Profile.Timeouts.ProgressDeadlineSeconds), Ns, cancellationToken: Token);
            await ExpectRolloutAsync(RolloutPhase.Complete);
            await ExpectImageServedAsync(images.RolloutInitial);
        });

        await Report.Step($"kubectl set image deployment {Name} nginx={images.RolloutUpdate} --record", async () =>
        {
            await SetImageAsync(images.RolloutUpdate);
            await ExpectRolloutAsync(RolloutPhase.Complete);
            await ExpectImageServedAsync(images.RolloutUpdate);
            await ExpectHistoryAsync(1, 2);
        });

        await Report.Step($"kubectl set image deployment {Name} nginx={images.RolloutMissing} --record → exceeded its progress deadline", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await SetImageAsync(images.RolloutMissing);
            var failed = await ExpectRolloutAsync(RolloutPhase.Failed);
            Record("symptom", DateTimeOffset.UtcNow - started);
            Assert.That(failed.Message, Does.Contain("exceeded its progress deadline"));
            var pods = await Api.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=nginx", cancellationToken: Token);
            Report.Attach("kubectl get pods", ObjectState.Describe(pods.Items));
            Assert.That(pods.Items.Where(p => p.Spec.Containers[0].Image == images.RolloutMissing).Select(p => p.KubectlStatus()),
                Has.Some.Matches<string>(s => s is "ErrImagePull" or "ImagePullBackOff"), "the missing tag cannot be pulled");
            Assert.That(pods.Items.Count(p => p.IsReady() && p.Spec.Containers[0].Image == images.RolloutUpdate), Is.EqualTo(3),
                "the old replicas keep serving while the new ones cannot start");
            await ExpectHistoryAsync(1, 2, 3);
        });

        await Report.Step($"kubectl rollout undo deployment {Name}", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            var deadlineExceeded = (await Api.AppsV1.ReadNamespacedDeploymentAsync(Name, Ns, cancellationToken: Token))
                .Status.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
            Report.Attach("output", await RolloutUndo.UndoAsync(Api, Ns, Name, 0, Token));
            await ExpectRolloutAsync(RolloutPhase.Complete, deadlineExceeded);
            await ExpectImageServedAsync(images.RolloutUpdate);
            Record("recovery", DateTimeOffset.UtcNow - started);
            await ExpectHistoryAsync(1, 3, 4);
        });

        await Report.Step($"kubectl rollout undo deployment {Name} --to-revision=1", async () =>
        {
            Report.Attach("output", await RolloutUndo.UndoAsync(Api, Ns, Name, 1, Token));
            await ExpectRolloutAsync(RolloutPhase.Complete);
            await ExpectImageServedAsync(images.RolloutInitial);
        });
    }

    private Task SetImageAsync(string image)
    {
        var cause = $"kubectl set image deployment {Name} nginx={image} --record=true";
        var patch = new
        {
            metadata = new { annotations = new Dictionary<string, string> { ["kubernetes.io/change-cause"] = cause } },
            spec = new { template = new { spec = new { containers = new[] { new { name = "nginx", image } } } } },
        };
        return Api.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.StrategicMergePatch), Name, Ns, cancellationToken: Token);
    }

    /// <param name="earlierVerdict">The Progressing condition before the change, so a stale ProgressDeadlineExceeded is not read as this rollout's.</param>
    private Task<RolloutState> ExpectRolloutAsync(RolloutPhase expected, V1DeploymentCondition? earlierVerdict = null) =>
        Report.Step($"kubectl rollout status deployment {Name} → {expected}", async () =>
        {
            var deadline = Seconds(Profile.Timeouts.RolloutSeconds);
            var state = await RolloutStatus.WaitAsync(Api, Ns, Name, deadline, Report.Progress, Token, earlierVerdict);
            Report.Attach("output", state.Message);
            Assert.That(state.Phase, Is.EqualTo(expected), state.Message);
            return state;
        });

    /// <summary>Every pod runs the tag; the Server header shows it where the profile's images carry real nginx versions.</summary>
    private Task ExpectImageServedAsync(string image) =>
        Report.Step($"pods run {image}", async () =>
        {
            var pods = await WaitForReadyPodsAsync("app=nginx", 3, p => p.Spec.Containers[0].Image == image);
            var answer = await CurlFromControlPlaneAsync(pods[0].Status.PodIP);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
            if (Profile.Images.ServerHeaderShowsVersion)
                Assert.That(answer.Server, Is.EqualTo($"nginx/{image.Split(':')[1]}"));
        });

    private Task ExpectHistoryAsync(params long[] revisions) =>
        Report.Step($"kubectl rollout history deployment {Name} → revisions {string.Join(", ", revisions)}", async () =>
        {
            var history = await RolloutHistory.GetAsync(Api, Ns, Name, Token);
            Report.Attach("output", RolloutHistory.Format(Name, history));
            Assert.That(history.Select(h => h.Revision), Is.EqualTo(revisions));
            Assert.That(history.Select(h => h.ChangeCause), Has.All.Not.Null, "every revision records its change-cause");
        });
}
