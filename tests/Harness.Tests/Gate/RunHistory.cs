using System.Text.Json;
using Harness.Reporting;
using GateOf = Harness.Reporting.Gate;

namespace Harness.Tests.Gate;

/// <summary>
/// Builds reports/metrics.jsonl content one run at a time, as the suite writes it: a "started" record naming the checks
/// a full run has, a "versions" record, per check a recovery figure (optional) and a result line, and an "ended" record.
/// </summary>
internal sealed class RunHistory
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 20, 0, 0, TimeSpan.Zero);
    private int _runs;

    public List<Metric> Metrics { get; } = [];
    public List<RunRecord> Runs { get; } = [];
    public MetricsHistory History => new(Metrics, Runs);

    /// <summary>A completed run whose full set of checks is exactly the ones given.</summary>
    public RunHistory Run(string runId, params (string Check, string Status, double? Recovery)[] checks) =>
        RunOf("lab", runId, checks);

    public RunHistory RunOf(string profile, string runId, params (string Check, string Status, double? Recovery)[] checks) =>
        Add(runId, checks, expected: [.. checks.Select(c => c.Check)], profile: profile);

    /// <summary>
    /// Any run. <paramref name="expected"/>: the checks a full run has (null: no run records at all, as an older harness
    /// wrote); <paramref name="outcome"/> null: no end record (the run was killed).
    /// </summary>
    public RunHistory Add(string runId, (string Check, string Status, double? Recovery)[] checks, IReadOnlyList<string>? expected,
        string? outcome = RunOutcomes.Completed, string? reason = null, string profile = "lab",
        string server = "v1.20.2", string kubelet = "v1.20.2", string? runtimes = null, string? clusterUid = null)
    {
        var at = Start.AddHours(_runs++);
        DateTimeOffset Next() => at = at.AddSeconds(1);
        if (expected is not null)
        {
            Runs.Add(new RunRecord(runId, Next(), profile, RunEvents.Started, ExpectedChecks: expected));
            Runs.Add(new RunRecord(runId, Next(), profile, RunEvents.Versions, ServerVersion: server, KubeletVersions: kubelet, Runtimes: runtimes,
                ClusterUid: clusterUid));
        }
        foreach (var (check, status, recovery) in checks)
        {
            if (recovery is { } seconds)
                Metrics.Add(new Metric(runId, Next(), profile, server, check, GateOf.RecoveryPhase, seconds));
            Metrics.Add(new Metric(runId, Next(), profile, server, check, GateOf.ResultPhase, 0, status));
        }
        if (expected is not null && outcome is not null)
            Runs.Add(new RunRecord(runId, Next(), profile, RunEvents.Ended, Outcome: outcome, Reason: reason));
        return this;
    }

    /// <summary>The file's lines in time order, metrics and run records interleaved as a real run writes them.</summary>
    public IEnumerable<string> Lines() =>
        Metrics.Select(m => (m.At, Line: JsonSerializer.Serialize(m, JsonSerializerOptions.Web)))
            .Concat(Runs.Select(r => (r.At, Line: JsonSerializer.Serialize(r, JsonSerializerOptions.Web))))
            .OrderBy(l => l.At)
            .Select(l => l.Line);

    public void WriteTo(string path) => File.WriteAllLines(path, Lines());
}
