using System.Text.RegularExpressions;

namespace Harness.Kube.Kubectl;

public enum RolloutVerdict
{
    /// <summary>Only "Waiting for …" lines: kubectl stopped (or was stopped) before the rollout ended.</summary>
    Unfinished,

    /// <summary><c>deployment "x" successfully rolled out</c></summary>
    Complete,

    /// <summary><c>error: deployment "x" exceeded its progress deadline</c></summary>
    ProgressDeadlineExceeded,

    /// <summary><c>error: timed out waiting for the condition</c>: kubectl's own --timeout ran out first.</summary>
    TimedOut,
}

/// <summary>
/// What <c>kubectl rollout status deployment NAME</c> printed (pkg/polymorphichelpers/rollout_status.go, the same
/// wording from 1.18 to 1.36): its "Waiting for …" lines and its verdict.
/// </summary>
public sealed record RolloutStatusOutput(RolloutVerdict Verdict, IReadOnlyList<string> Waiting, string? Error)
{
    public static RolloutStatusOutput Parse(string deployment, string transcript)
    {
        var lines = KubectlOutput.Lines(transcript);
        var error = KubectlOutput.Errors(transcript).FirstOrDefault();
        var verdict =
            lines.Contains($"deployment \"{deployment}\" successfully rolled out") ? RolloutVerdict.Complete
            : error == $"deployment \"{deployment}\" exceeded its progress deadline" ? RolloutVerdict.ProgressDeadlineExceeded
            : error?.StartsWith("timed out waiting", StringComparison.Ordinal) == true ? RolloutVerdict.TimedOut
            : RolloutVerdict.Unfinished;
        var waiting = lines.Where(line => line.StartsWith("Waiting for deployment ", StringComparison.Ordinal)).Distinct().ToList();
        return new RolloutStatusOutput(verdict, waiting, error);
    }
}

/// <summary>One row of <c>kubectl rollout history</c>; ChangeCause is null where kubectl prints <c>&lt;none&gt;</c>.</summary>
public sealed record RolloutRevision(long Revision, string? ChangeCause)
{
    public override string ToString() => $"{Revision}  {ChangeCause ?? "<none>"}";
}

/// <summary>
/// What <c>kubectl rollout history deployment NAME</c> printed (pkg/polymorphichelpers/history.go, 1.18–1.36):
/// <code>
/// deployment.apps/rollout-nginx
/// REVISION  CHANGE-CAUSE
/// 1         kubectl apply --filename=./rollout-nginx.yaml --record=true
/// </code>
/// </summary>
public static partial class RolloutHistoryOutput
{
    /// <exception cref="FormatException">No <c>REVISION  CHANGE-CAUSE</c> table in the text (e.g. kubectl failed).</exception>
    public static IReadOnlyList<RolloutRevision> Parse(string transcript)
    {
        var lines = KubectlOutput.Lines(transcript).ToList();
        var header = lines.FindIndex(line => Header().IsMatch(line));
        if (header < 0)
            throw new FormatException($"kubectl rollout history printed no REVISION/CHANGE-CAUSE table: {transcript.Trim()}");
        return lines.Skip(header + 1)
            .Select(line => Row().Match(line)).TakeWhile(m => m.Success)
            .Select(m => new RolloutRevision(long.Parse(m.Groups["revision"].Value),
                m.Groups["cause"].Value is "<none>" or "" ? null : m.Groups["cause"].Value))
            .ToList();
    }

    [GeneratedRegex(@"^REVISION\s+CHANGE-CAUSE$")]
    private static partial Regex Header();

    [GeneratedRegex(@"^(?<revision>\d+)(?:\s+(?<cause>.*))?$")]
    private static partial Regex Row();
}
