namespace Harness.Waits;

/// <summary>
/// Every timeout of a run as a duration, in one place, as e2e's <c>framework.TimeoutContext</c>. Built from the
/// profile's <c>timeouts</c> section (<c>Profiles.TimeoutSettings.ToTimeouts</c>): the file keeps whole seconds
/// under its <c>…Seconds</c> keys, the code waits with these.
/// </summary>
public sealed record Timeouts
{
    /// <summary>An SSH login, and the API's first answer (<c>connectSeconds</c>).</summary>
    public required TimeSpan Connect { get; init; }

    /// <summary>One command on a node (<c>commandSeconds</c>).</summary>
    public required TimeSpan Command { get; init; }

    /// <summary>A pod (or a node) to be Running and Ready (<c>podReadySeconds</c>).</summary>
    public required TimeSpan PodReady { get; init; }

    /// <summary>A pod, or a namespace with its pods, to be deleted (<c>podGoneSeconds</c>).</summary>
    public required TimeSpan PodGone { get; init; }

    /// <summary>A node to go down, come back and report Ready (<c>nodeRebootSeconds</c>).</summary>
    public required TimeSpan NodeReboot { get; init; }

    /// <summary>curl's <c>--connect-timeout</c> and <c>--max-time</c> for one call (<c>curlSeconds</c>).</summary>
    public required TimeSpan Curl { get; init; }

    /// <summary>The rollout fixture's <c>progressDeadlineSeconds</c> (<c>progressDeadlineSeconds</c>).</summary>
    public required TimeSpan ProgressDeadline { get; init; }

    /// <summary><c>kubectl rollout status --timeout</c> (<c>rolloutSeconds</c>).</summary>
    public required TimeSpan Rollout { get; init; }

    /// <summary>How long the symptom of a fault is watched for before the check fails (<c>symptomSeconds</c>).</summary>
    public required TimeSpan Symptom { get; init; }

    /// <summary>A control-plane component to serve again once its manifest is back (<c>controlPlaneRestartSeconds</c>).</summary>
    public required TimeSpan ControlPlaneRestart { get; init; }

    /// <summary>The whole control plane to be Ready with no restart for a while after a control-plane check (<c>controlPlaneSettleSeconds</c>).</summary>
    public required TimeSpan ControlPlaneSettle { get; init; }
}
