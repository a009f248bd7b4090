using System.Text.Json.Nodes;
using Harness.Kube.Operations;
using NUnit.Framework;
using static Harness.Tests.Kube.KubeObjects;

namespace Harness.Tests.Kube;

/// <summary>kubectl's rollout-undo computation, on the book's rollout-nginx history (revisions 1, 2, 3).</summary>
public class RolloutUndoTests
{
    // The book's state after `set image ... nginx:1.17.23`: revision 3 is current and stuck.
    private static readonly RollbackPlan UndoFromBadImage =
        RolloutUndo.Plan(Deployment("nginx:1.17.23", 3), BookHistory());

    [Test]
    public void Undo_without_revision_picks_the_previous_revision()
    {
        Assert.That(UndoFromBadImage.Outcome, Is.EqualTo(RollbackOutcome.Patch));
        Assert.That(UndoFromBadImage.Revision, Is.EqualTo(2));
        Assert.That(UndoFromBadImage.Template!.Spec.Containers[0].Image, Is.EqualTo("nginx:1.16.0"));
    }

    [Test]
    public void Undo_to_revision_picks_that_revision()
    {
        var plan = RolloutUndo.Plan(Deployment("nginx:1.16.0", 4), BookHistory(), toRevision: 1);

        Assert.That(plan.Outcome, Is.EqualTo(RollbackOutcome.Patch));
        Assert.That(plan.Revision, Is.EqualTo(1));
        Assert.That(plan.Template!.Spec.Containers[0].Image, Is.EqualTo("nginx:1.15.12"));
    }

    [Test]
    public void Undo_to_missing_revision_is_refused_with_kubectls_message()
    {
        var plan = RolloutUndo.Plan(Deployment("nginx:1.17.23", 3), BookHistory(), toRevision: 7);

        Assert.That(plan.Outcome, Is.EqualTo(RollbackOutcome.Refused));
        Assert.That(plan.Message, Is.EqualTo("unable to find specified revision 7 in history"));
    }

    [Test]
    public void Undo_with_a_single_revision_reports_no_history()
    {
        var plan = RolloutUndo.Plan(Deployment("nginx:1.15.12", 1), [BookHistory()[0]]);

        Assert.That(plan.Outcome, Is.EqualTo(RollbackOutcome.Refused));
        Assert.That(plan.Message, Is.EqualTo("no rollout history found for deployment \"rollout-nginx\""));
    }

    [Test]
    public void Undo_of_a_paused_deployment_is_refused()
    {
        var plan = RolloutUndo.Plan(Deployment("nginx:1.17.23", 3, paused: true), BookHistory());

        Assert.That(plan.Outcome, Is.EqualTo(RollbackOutcome.Refused));
        Assert.That(plan.Message, Is.EqualTo(
            "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/rollout-nginx' and try again"));
    }

    [Test]
    public void Undo_looks_up_the_revision_before_refusing_a_pause()
    {
        var plan = RolloutUndo.Plan(Deployment("nginx:1.17.23", 3, paused: true), BookHistory(), toRevision: 7);

        Assert.That(plan.Message, Is.EqualTo("unable to find specified revision 7 in history"));
    }

    [Test]
    public void Plain_undo_to_the_current_template_is_skipped_naming_revision_0_as_kubectl_does()
    {
        var plan = RolloutUndo.Plan(Deployment("nginx:1.16.0", 3), BookHistory());

        Assert.That(plan.Outcome, Is.EqualTo(RollbackOutcome.Skip));
        Assert.That(plan.Revision, Is.EqualTo(2));
        Assert.That(plan.Message, Is.EqualTo("skipped rollback (current template already matches revision 0)"));
    }

    [Test]
    public void Undo_to_the_current_template_is_skipped_although_the_replicaset_has_a_pod_template_hash()
    {
        var plan = RolloutUndo.Plan(Deployment("nginx:1.16.0", 2), BookHistory(), toRevision: 2);

        Assert.That(plan.Outcome, Is.EqualTo(RollbackOutcome.Skip));
        Assert.That(plan.Message, Is.EqualTo("skipped rollback (current template already matches revision 2)"));
    }

    [Test]
    public void Patch_strips_pod_template_hash_copies_change_cause_and_keeps_deployment_bookkeeping()
    {
        var deployment = Deployment("nginx:1.17.23", 3, annotations: new Dictionary<string, string>
        {
            ["deployment.kubernetes.io/revision"] = "3",
            ["deployment.kubernetes.io/revision-history"] = "1",
            ["kubectl.kubernetes.io/last-applied-configuration"] = "{\"kind\":\"Deployment\"}",
            ["kubernetes.io/change-cause"] = "kubectl set image deployment rollout-nginx nginx=nginx:1.17.23 --record=true",
        });

        var plan = RolloutUndo.Plan(deployment, BookHistory());
        var patch = JsonNode.Parse(plan.ToJsonPatch())!.AsArray();

        Assert.That(patch.Select(op => (string?)op!["path"]), Is.EqualTo(new[] { "/spec/template", "/metadata/annotations" }));
        Assert.That(patch.Select(op => (string?)op!["op"]), Is.All.EqualTo("replace"));
        var labels = patch[0]!["value"]!["metadata"]!["labels"]!.AsObject();
        Assert.That(labels.Select(label => label.Key), Is.EqualTo(new[] { "app" }), "pod-template-hash must be removed");
        Assert.That((string?)patch[0]!["value"]!["spec"]!["containers"]![0]!["image"], Is.EqualTo("nginx:1.16.0"));
        var annotations = patch[1]!["value"]!.AsObject().ToDictionary(a => a.Key, a => (string?)a.Value);
        Assert.That(annotations, Is.EqualTo(new Dictionary<string, string?>
        {
            // the Deployment's own bookkeeping stays
            ["deployment.kubernetes.io/revision"] = "3",
            ["deployment.kubernetes.io/revision-history"] = "1",
            ["kubectl.kubernetes.io/last-applied-configuration"] = "{\"kind\":\"Deployment\"}",
            // the ReplicaSet's other annotations come back; its desired/max-replicas do not
            ["kubernetes.io/change-cause"] = "kubectl set image deployment rollout-nginx nginx=nginx:1.16.0 --record=true",
        }));
    }

    [Test]
    public void History_prints_like_kubectl_rollout_history()
    {
        var text = RolloutHistory.Format("rollout-nginx", RolloutHistory.FromReplicaSets(BookHistory()));

        Assert.That(text, Is.EqualTo(
            "deployment.apps/rollout-nginx \n" +
            "REVISION  CHANGE-CAUSE\n" +
            "1         kubectl apply --filename=./rollout-nginx.yaml --record=true\n" +
            "2         kubectl set image deployment rollout-nginx nginx=nginx:1.16.0 --record=true\n" +
            "3         kubectl set image deployment rollout-nginx nginx=nginx:1.17.23 --record=true\n"));
    }

    [Test]
    public void History_shows_none_for_a_revision_without_change_cause()
    {
        var text = RolloutHistory.Format("rollout-nginx", [(1, null)]);

        Assert.That(text, Does.EndWith("1         <none>\n"));
    }
}
