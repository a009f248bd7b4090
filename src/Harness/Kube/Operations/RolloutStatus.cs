using k8s;
using k8s.Models;

namespace Harness.Kube.Operations;

public enum RolloutPhase
{
    Waiting,
    Complete,
    Failed,
}

/// <summary>One reading of <c>kubectl rollout status</c>; Message is the line kubectl prints (without its newline).</summary>
public sealed record RolloutState(RolloutPhase Phase, string Message)
{
    public bool IsFinished => Phase != RolloutPhase.Waiting;
}

/// <summary>kubectl's <c>rollout status deployment</c>: the same rules, read from a watch.</summary>
public static class RolloutStatus
{
    /// <param name="earlierVerdict">The Progressing condition as it stood before a change (e.g. a rollout undo). The
    /// deployment controller can keep a ProgressDeadlineExceeded for a sync or two after the change it then re-evaluates;
    /// kubectl would print it, but it is the verdict on the earlier rollout, not on this one: wait instead.</param>
    public static RolloutState Evaluate(V1Deployment d, V1DeploymentCondition? earlierVerdict = null)
    {
        var name = d.Metadata.Name;
        // Until the controller has seen the latest spec, the status describes an older one.
        if ((d.Metadata.Generation ?? 0) > (d.Status?.ObservedGeneration ?? 0))
            return Waiting("Waiting for deployment spec update to be observed...");

        var status = d.Status!;
        var progressing = status.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        if (progressing?.Reason == "ProgressDeadlineExceeded" && earlierVerdict is { Reason: "ProgressDeadlineExceeded" } earlier
            && progressing.LastUpdateTime == earlier.LastUpdateTime)
            return Waiting($"Waiting for deployment \"{name}\" to re-evaluate its progress after the change (still showing the earlier ProgressDeadlineExceeded)...");
        if (progressing?.Reason == "ProgressDeadlineExceeded")
            return new RolloutState(RolloutPhase.Failed, $"deployment \"{name}\" exceeded its progress deadline");

        var updated = status.UpdatedReplicas ?? 0;
        var total = status.Replicas ?? 0;
        var available = status.AvailableReplicas ?? 0;
        var prefix = $"Waiting for deployment \"{name}\" rollout to finish: ";
        if (d.Spec.Replicas is { } desired && updated < desired)
            return Waiting($"{prefix}{updated} out of {desired} new replicas have been updated...");
        if (total > updated)
            return Waiting($"{prefix}{total - updated} old replicas are pending termination...");
        if (available < updated)
            return Waiting($"{prefix}{available} of {updated} updated replicas are available...");
        return new RolloutState(RolloutPhase.Complete, $"deployment \"{name}\" successfully rolled out");
    }

    /// <summary>Watches the Deployment until its rollout is Complete or Failed.</summary>
    /// <param name="progress">Called with each new status line, as kubectl prints them.</param>
    /// <exception cref="TimeoutException">The deadline passed first; names the deployment and its last state.</exception>
    public static async Task<RolloutState> WaitAsync(
        IKubernetes client, string ns, string name, TimeSpan deadline, Action<string>? progress,
        CancellationToken cancellationToken, V1DeploymentCondition? earlierVerdict = null)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(deadline);
        var lastMessage = "no status read yet";
        string? resourceVersion = null;
        try
        {
            while (true)
            {
                // The server ends a watch after timeoutSeconds (or earlier); we re-watch from where we were.
                var events = client.AppsV1.WatchListNamespacedDeploymentAsync(
                    ns, fieldSelector: $"metadata.name={name}", resourceVersion: resourceVersion,
                    timeoutSeconds: 120, cancellationToken: timer.Token);
                await foreach (var (type, deployment) in events.ConfigureAwait(false))
                {
                    switch (type)
                    {
                        case WatchEventType.Error:
                            resourceVersion = null; // e.g. 410 Gone: start again from the current object
                            continue;
                        case WatchEventType.Deleted:
                            throw new InvalidOperationException(
                                $"deployment \"{name}\" was deleted while waiting for its rollout");
                        case WatchEventType.Bookmark:
                            resourceVersion = deployment.Metadata?.ResourceVersion ?? resourceVersion;
                            continue;
                    }
                    resourceVersion = deployment.Metadata.ResourceVersion;
                    var state = Evaluate(deployment, earlierVerdict);
                    if (state.Message != lastMessage) progress?.Invoke(state.Message);
                    lastMessage = state.Message;
                    if (state.IsFinished) return state;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"deployment \"{ns}/{name}\" rollout did not finish within {deadline}; last state: {lastMessage}");
        }
    }

    private static RolloutState Waiting(string message) => new(RolloutPhase.Waiting, message);
}
