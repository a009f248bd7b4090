using System.Text.Json;

namespace Harness.Reporting;

/// <summary>One measured figure of one check in one run, as a line of reports/metrics.jsonl.</summary>
/// <param name="Phase">e.g. <c>symptom</c> (inject → symptom seen), <c>recovery</c> (recovery action → recovered),
/// <c>detection</c> (cluster change → harness saw it).</param>
public sealed record Metric(
    string RunId, DateTimeOffset At, string Profile, string KubernetesVersion, string Check, string Phase, double Seconds,
    string Status = "");

/// <summary>
/// Recovery timings, appended to a JSON-lines file that accumulates across runs (the gate compares against it)
/// and shown in the check's report as excluded parameters, so they do not split the check's history.
/// </summary>
public static class Metrics
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly Lock FileLock = new();

    public static string FilePath { get; set; } = "reports/metrics.jsonl";
    public static string RunId { get; set; } = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'");
    public static string Profile { get; set; } = "";
    public static string KubernetesVersion { get; set; } = "";

    public static void Record(string check, string phase, TimeSpan duration)
    {
        var metric = new Metric(RunId, DateTimeOffset.UtcNow, Profile, KubernetesVersion, check, phase,
            Math.Round(duration.TotalSeconds, 3));
        Append(metric);
        Report.Parameter($"{phase} seconds", metric.Seconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), excluded: true);
    }

    /// <summary>The check's outcome (passed/failed/broken/skipped), so the gate can find the last green run.</summary>
    public static void RecordOutcome(string check, string status) =>
        Append(new Metric(RunId, DateTimeOffset.UtcNow, Profile, KubernetesVersion, check, Harness.Reporting.Gate.ResultPhase, 0, status));

    // Run records (placeholder until the gate's run records land): phase "run-…" lines of check "(run)".
    public static void RunStarted(IReadOnlyList<string> expectedChecks) =>
        Append(new Metric(RunId, DateTimeOffset.UtcNow, Profile, KubernetesVersion, "(run)", "run-started", 0, string.Join(",", expectedChecks)));

    public static void RunVersions(string serverVersion, string kubeletVersions) =>
        Append(new Metric(RunId, DateTimeOffset.UtcNow, Profile, serverVersion, "(run)", "run-versions", 0, kubeletVersions));

    public static void RunEnded(string outcome, string? reason) =>
        Append(new Metric(RunId, DateTimeOffset.UtcNow, Profile, KubernetesVersion, "(run)", "run-ended", 0, $"{outcome}: {reason}"));

    private static void Append(Metric metric)
    {
        lock (FileLock)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(FilePath))!);
            File.AppendAllText(FilePath, JsonSerializer.Serialize(metric, Json) + "\n");
        }
    }

    public static IReadOnlyList<Metric> ReadAll(string path)
    {
        if (!File.Exists(path)) return [];
        var all = new List<Metric>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try { if (JsonSerializer.Deserialize<Metric>(line, Json) is { } m) all.Add(m); }
            catch (JsonException) { }
        }
        return all;
    }
}
