using Harness.Kube.Operations;
using NUnit.Framework;
using k8s.Models;
using static Harness.Tests.Kube.KubeObjects;

namespace Harness.Tests.Kube;

/// <summary>kubectl rollout status's rules, one test per branch.</summary>
public class RolloutStatusTests
{
    private static V1Deployment Rollout(
        int updated, int total, int available, long generation = 2, long observed = 2, string? progressingReason = null)
    {
        var deployment = Deployment("nginx:1.17.23", 3);
        deployment.Metadata.Generation = generation;
        deployment.Status = new V1DeploymentStatus
        {
            ObservedGeneration = observed,
            UpdatedReplicas = updated,
            Replicas = total,
            AvailableReplicas = available,
            Conditions = progressingReason is null
                ? null
                : [new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = progressingReason }],
        };
        return deployment;
    }

    [Test]
    public void Waits_until_the_controller_has_observed_the_new_generation_even_past_the_deadline()
    {
        var state = RolloutStatus.Evaluate(Rollout(3, 3, 3, generation: 3, observed: 2, "ProgressDeadlineExceeded"));

        Assert.That(state, Is.EqualTo(new RolloutState(RolloutPhase.Waiting, "Waiting for deployment spec update to be observed...")));
    }

    [Test]
    public void Progress_deadline_exceeded_fails_with_kubectls_message()
    {
        var state = RolloutStatus.Evaluate(Rollout(1, 4, 3, progressingReason: "ProgressDeadlineExceeded"));

        Assert.That(state, Is.EqualTo(new RolloutState(RolloutPhase.Failed, "deployment \"rollout-nginx\" exceeded its progress deadline")));
    }

    [Test]
    public void After_an_undo_the_earlier_deadline_verdict_is_waited_out_but_a_new_one_fails()
    {
        var timedOutAt = new DateTime(2026, 11, 30, 9, 29, 52, DateTimeKind.Utc);
        var earlier = new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded", LastUpdateTime = timedOutAt };
        var stale = Rollout(3, 4, 3, progressingReason: "ProgressDeadlineExceeded");
        stale.Status.Conditions[0].LastUpdateTime = timedOutAt;
        Assert.That(RolloutStatus.Evaluate(stale, earlier).Phase, Is.EqualTo(RolloutPhase.Waiting), "the same condition as before the undo is not this rollout's verdict");

        var fresh = Rollout(1, 4, 3, progressingReason: "ProgressDeadlineExceeded");
        fresh.Status.Conditions[0].LastUpdateTime = timedOutAt.AddSeconds(31);
        Assert.That(RolloutStatus.Evaluate(fresh, earlier).Phase, Is.EqualTo(RolloutPhase.Failed), "a deadline exceeded again after the undo fails");
    }

    [Test]
    public void Waits_for_new_replicas_as_the_book_shows()
    {
        var state = RolloutStatus.Evaluate(Rollout(1, 4, 3, progressingReason: "ReplicaSetUpdated"));

        Assert.That(state, Is.EqualTo(new RolloutState(RolloutPhase.Waiting,
            "Waiting for deployment \"rollout-nginx\" rollout to finish: 1 out of 3 new replicas have been updated...")));
    }

    [Test]
    public void Waits_for_old_replicas_to_terminate()
    {
        var state = RolloutStatus.Evaluate(Rollout(3, 4, 3));

        Assert.That(state, Is.EqualTo(new RolloutState(RolloutPhase.Waiting,
            "Waiting for deployment \"rollout-nginx\" rollout to finish: 1 old replicas are pending termination...")));
    }

    [Test]
    public void Waits_for_updated_replicas_to_become_available()
    {
        var state = RolloutStatus.Evaluate(Rollout(3, 3, 2));

        Assert.That(state, Is.EqualTo(new RolloutState(RolloutPhase.Waiting,
            "Waiting for deployment \"rollout-nginx\" rollout to finish: 2 of 3 updated replicas are available...")));
    }

    [Test]
    public void Complete_when_all_replicas_are_updated_and_available()
    {
        var state = RolloutStatus.Evaluate(Rollout(3, 3, 3, progressingReason: "NewReplicaSetAvailable"));

        Assert.That(state, Is.EqualTo(new RolloutState(RolloutPhase.Complete, "deployment \"rollout-nginx\" successfully rolled out")));
        Assert.That(state.IsFinished, Is.True);
    }
}
