using Harness.Checks;
using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Kubectl;
using Harness.Nodes;
using Harness.NUnitAdapter;
using Harness.Reporting;
using Harness.Waits;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// S9: update a Deployment's image, survive a bad tag with rollout undo, and go back to revision 1 — with the book's
/// kubectl (apply --record, set image, rollout status/history/undo) on the control plane, the pods watched through the API.
/// </summary>
[TestFixture, Order(7), Category("rollout")]
public sealed class RolloutTests : ClusterCheck
{
    private const string Name = "rollout-nginx";

    /// <summary>rollout-nginx.yaml's replicas (the book's 3, whatever the number of workers).</summary>
    private const int Replicas = 3;

    /// <summary>A tag that does not exist (the book's nginx:1.17.23). The check recovers with <c>kubectl rollout undo</c>;
    /// deleting the namespace is what undoes it if the check stops first.</summary>
    private Fault MissingImageTag => Fault.InCluster("missing image tag", Name,
        $"kubectl set image deployment {Name} nginx={Profile.Images.RolloutMissing}", Revert.DeleteNamespace(Ns));

    protected override IEnumerable<Fault> FaultsOf(string check) => [MissingImageTag];

    /// <summary>The scheduler places rollout-nginx's pods on any worker: every worker must stay healthy meanwhile.</summary>
    protected override ClusterClaim ClaimOf(string check) => ClaimOfFaults(check).Needing(Workers.All);

    [Test, Category("book"), Scenario("S9"), CancelAfter(Backstop)]
    [Description("rollout-nginx 1.15.12 → 1.16.0; a missing tag exceeds its progress deadline; rollout undo restores 1.16.0; undo --to-revision=1 restores 1.15.12.")]
    public async Task RolloutUndoRecoversFromABadImageTag()
    {
        var images = Profile.Images;
        var applyCause = ApplyCause();
        var updateCause = SetImageCause(images.RolloutUpdate);
        var missingCause = SetImageCause(images.RolloutMissing);

        await Report.Step($"kubectl apply -f ./{Manifests.RolloutNginxFile}{RecordFlag}", async () =>
        {
            await Kubectl.PutFileAsync(Manifests.RolloutNginxFile, Context.Manifests.RolloutNginx(images.RolloutInitial, Profile.Timeouts.ProgressDeadlineSeconds));
            await ExpectActionAsync($"apply -f ./{Manifests.RolloutNginxFile}{RecordFlag}", "created");
            await RecordChangeCauseAsync(applyCause);
            await ExpectRolloutStatusAsync(RolloutVerdict.Complete);
            await ExpectImageServedAsync(images.RolloutInitial);
            await ExpectHistoryAsync((1, applyCause));
        });

        await Report.Step($"kubectl set image deployment {Name} nginx={images.RolloutUpdate}{RecordFlag}", async () =>
        {
            await SetImageAsync(images.RolloutUpdate, updateCause);
            await ExpectRolloutStatusAsync(RolloutVerdict.Complete);
            await ExpectImageServedAsync(images.RolloutUpdate);
            await ExpectHistoryAsync((1, applyCause), (2, updateCause));
        });

        // The bad tag is this check's fault; deleting the namespace (registered first) is what undoes it if the check stops.
        var badTag = await Report.Step(
            $"kubectl set image deployment {Name} nginx={images.RolloutMissing}{RecordFlag} → error: deployment \"{Name}\" exceeded its progress deadline", async () =>
        {
            var fault = await InjectAsync(MissingImageTag, _ => SetImageAsync(images.RolloutMissing, missingCause));
            var status = await ExpectRolloutStatusAsync(RolloutVerdict.ProgressDeadlineExceeded);
            Record("symptom", fault.SinceInject);
            Assert.That(status.Waiting, Has.Some.StartWith($"Waiting for deployment \"{Name}\" rollout to finish: "),
                "kubectl waits for the new replicas before it gives up");
            var pods = await Api.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=nginx", cancellationToken: Token);
            Report.Attach("pods (API)", ObjectState.Describe(pods.Items));
            Assert.That(pods.Items.Where(p => p.Spec.Containers[0].Image == images.RolloutMissing).Select(p => p.KubectlStatus()),
                Has.Some.Matches<string>(s => s is "ErrImagePull" or "ImagePullBackOff"), "the missing tag cannot be pulled");
            Assert.That(pods.Items.Count(p => p.IsReady() && p.Spec.Containers[0].Image == images.RolloutUpdate), Is.EqualTo(Replicas),
                "the old replicas keep serving while the new ones cannot start");
            await ExpectHistoryAsync((1, applyCause), (2, updateCause), (3, missingCause));
            return fault;
        });

        await Report.Step($"kubectl rollout undo deployment {Name}", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(badTag, _ => ExpectActionAsync($"rollout undo deployment {Name}", "rolled back"));
            await ExpectImageServedAsync(images.RolloutUpdate);
            Record("recovery", DateTimeOffset.UtcNow - started);
            await ExpectRolloutStatusAsync(RolloutVerdict.Complete, afterDeadlineExceeded: true);
            // Revision 2 comes back as revision 4, with its change-cause.
            await ExpectHistoryAsync((1, applyCause), (3, missingCause), (4, updateCause));
        });

        await Report.Step($"kubectl rollout undo deployment {Name} --to-revision=1", async () =>
        {
            await ExpectActionAsync($"rollout undo deployment {Name} --to-revision=1", "rolled back");
            await ExpectRolloutStatusAsync(RolloutVerdict.Complete);
            await ExpectImageServedAsync(images.RolloutInitial);
        });
    }

    private bool HasRecord => Profile.Kubernetes.KubectlHasRecord;

    /// <summary>The book's <c> --record</c>, where the profile's kubectl is used with it.</summary>
    private string RecordFlag => HasRecord ? " --record" : "";

    /// <summary>What kubectl writes into the change-cause: the command line with each flag spelled out as --name=value.</summary>
    private string ApplyCause() => HasRecord
        ? $"{KubectlName} apply --filename=./{Manifests.RolloutNginxFile} --record=true"
        : $"{KubectlName} apply -f ./{Manifests.RolloutNginxFile}";

    private string SetImageCause(string image) =>
        $"{KubectlName} set image deployment {Name} nginx={image}" + (HasRecord ? " --record=true" : "");

    /// <summary>--record writes the program's file name (kubectl) first, whatever path the profile runs it by.</summary>
    private string KubectlName => Path.GetFileName(Profile.Kubernetes.Kubectl.Split(' ').Last());

    private async Task SetImageAsync(string image, string cause)
    {
        await ExpectActionAsync($"set image deployment {Name} nginx={image}{RecordFlag}", "image updated");
        await RecordChangeCauseAsync(cause);
    }

    /// <summary>
    /// Without --record the change-cause is written as the Kubernetes documentation shows (kubectl annotate, after the
    /// change: the deployment controller copies it onto the new revision's ReplicaSet).
    /// </summary>
    private async Task RecordChangeCauseAsync(string cause)
    {
        if (HasRecord) return;
        var quoted = "'" + cause.Replace("'", "'\\''") + "'";
        await ExpectActionAsync($"annotate deployment {Name} kubernetes.io/change-cause={quoted} --overwrite", "annotated");
    }

    /// <summary>Runs a kubectl command that must succeed and say <paramref name="verb"/> about the Deployment.</summary>
    private Task ExpectActionAsync(string arguments, string verb) => Kubectl.ExpectAsync(arguments, "deployment.apps", Name, verb);

    /// <summary>
    /// <c>kubectl rollout status deployment rollout-nginx</c>, bounded by the profile's rollout time. After an undo from a
    /// failed rollout the Deployment can still show the earlier ProgressDeadlineExceeded for a sync or two: that verdict
    /// is the bad tag's, not the undo's, so kubectl is asked again for a while before it counts.
    /// </summary>
    private Task<RolloutStatusOutput> ExpectRolloutStatusAsync(RolloutVerdict expected, bool afterDeadlineExceeded = false) =>
        Report.Step($"kubectl rollout status deployment {Name} → {Expected(expected)}", async () =>
        {
            var limit = Timeouts.Rollout;
            // Only the bad tag's verdict read too early is asked again; every other answer counts at once.
            var stale = (RolloutStatusOutput status) => afterDeadlineExceeded && expected == RolloutVerdict.Complete
                && status.Verdict == RolloutVerdict.ProgressDeadlineExceeded;
            var (result, status) = (await new Until<(CommandResult Result, RolloutStatusOutput Status)>(
                    $"kubectl rollout status deployment {Name} to leave the bad tag's ProgressDeadlineExceeded", async _ =>
                    {
                        var ran = await Kubectl.RunAsync($"rollout status deployment {Name} --timeout={limit.TotalSeconds:0}s", limit + TimeSpan.FromSeconds(30));
                        return (ran, RolloutStatusOutput.Parse(Name, KubectlOutput.Text(ran)));
                    }, answer => !stale(answer.Status))
                {
                    // kubectl waits up to its own --timeout for a rollout that progresses: that wait is never cut off.
                    DeadlineCancelsLook = false,
                    Describe = answer => answer.Status.Verdict.ToString(),
                    Progress = Progress,
                }
                .LastWithinAsync(Timeouts.ProgressDeadline + TimeSpan.FromSeconds(30), Token)).Last;
            Assert.That(status.Verdict, Is.EqualTo(expected), result.ToString());
            Assert.That(result.ExitCode == 0, Is.EqualTo(expected == RolloutVerdict.Complete), $"exit code: {result}");
            return status;
        });

    private static string Expected(RolloutVerdict verdict) => verdict switch
    {
        RolloutVerdict.Complete => $"deployment \"{Name}\" successfully rolled out",
        RolloutVerdict.ProgressDeadlineExceeded => $"error: deployment \"{Name}\" exceeded its progress deadline",
        _ => verdict.ToString(),
    };

    /// <summary>Every pod runs the tag (API watch); the Server header shows it where the profile's images carry real nginx versions.</summary>
    private Task ExpectImageServedAsync(string image) =>
        Report.Step($"pods run {image}", async () =>
        {
            var pods = await Workloads.ReadyPodsAsync("app=nginx", Replicas, p => p.Spec.Containers[0].Image == image, ignoreLeaving: true);
            var answer = await Workloads.CurlFromControlPlaneAsync(pods[0].Status.PodIP);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
            if (Profile.Images.ServerHeaderShowsVersion)
                Assert.That(answer.Server, Is.EqualTo($"nginx/{image.Split(':')[1]}"));
        });

    /// <summary>
    /// <c>kubectl rollout history deployment rollout-nginx</c>: exactly these revisions with these change-causes, as kubectl
    /// prints them. The deployment controller copies a change-cause onto the ReplicaSet a moment after the change, so a
    /// history that does not match yet is read again for a few seconds.
    /// </summary>
    private Task ExpectHistoryAsync(params (long Revision, string ChangeCause)[] expected) =>
        Report.Step($"kubectl rollout history deployment {Name} → revisions {string.Join(", ", expected.Select(e => e.Revision))}", async () =>
        {
            var want = expected.Select(e => new RolloutRevision(e.Revision, e.ChangeCause)).ToList();
            var (result, history) = (await new Until<(CommandResult Result, IReadOnlyList<RolloutRevision> History)>(
                    $"kubectl rollout history deployment {Name} to list revisions {string.Join(", ", want.Select(w => w.Revision))}", async _ =>
                    {
                        var ran = await Kubectl.RunAsync($"rollout history deployment {Name}", attach: false);
                        IReadOnlyList<RolloutRevision> revisions = [];
                        try { if (ran.Succeeded) revisions = RolloutHistoryOutput.Parse(ran.Stdout); }
                        catch (FormatException) { } // no table (yet): read again, then fail with kubectl's output
                        return (ran, revisions);
                    }, answer => answer.History.SequenceEqual(want))
                { DeadlineCancelsLook = false }
                .LastWithinAsync(Timeouts.Symptom, Token)).Last;
            Report.Attach($"kubectl rollout history deployment {Name}", result.ToString());
            result.EnsureSuccess();
            Assert.That(history, Is.EqualTo(want));
        });
}
