using Harness.Reporting;

namespace Harness.Tests.Gate;

/// <summary>Builds reports/metrics.jsonl content: one run at a time, a result line and optionally a recovery figure per check.</summary>
internal sealed class RunHistory
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 20, 0, 0, TimeSpan.Zero);
    private int _runs;

    public List<Metric> Metrics { get; } = [];

    public RunHistory Run(string runId, params (string Check, string Status, double? Recovery)[] checks) =>
        RunOf("lab", runId, checks);

    public RunHistory RunOf(string profile, string runId, params (string Check, string Status, double? Recovery)[] checks)
    {
        var at = Start.AddHours(_runs++);
        foreach (var (check, status, recovery) in checks)
        {
            if (recovery is { } seconds)
                Metrics.Add(new Metric(runId, at = at.AddSeconds(1), profile, "v1.20.2", check, "recovery", seconds));
            Metrics.Add(new Metric(runId, at = at.AddSeconds(1), profile, "v1.20.2", check, Harness.Reporting.Gate.ResultPhase, 0, status));
        }
        return this;
    }

    public void WriteTo(string path) =>
        File.WriteAllLines(path, Metrics.Select(m => System.Text.Json.JsonSerializer.Serialize(m, System.Text.Json.JsonSerializerOptions.Web)));
}
