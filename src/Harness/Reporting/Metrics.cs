using System.Text.Json;

namespace Harness.Reporting;

/// <summary>One measured figure of one check in one run, as a line of reports/metrics.jsonl.</summary>
/// <param name="Phase">e.g. <c>symptom</c> (inject → symptom seen), <c>recovery</c> (recovery action → recovered),
/// <c>detection</c> (cluster change → harness saw it), or <see cref="Gate.ResultPhase"/> for the check's outcome.</param>
public sealed record Metric(
    string RunId, DateTimeOffset At, string Profile, string KubernetesVersion, string Check, string Phase, double Seconds,
    string Status = "")
{
    /// <summary>Tells a metric line from a run record in the same file; lines of older harnesses have none and are metrics.</summary>
    public string Record { get; init; } = Metrics.MetricRecord;
}

/// <summary>
/// What a run as a whole did, as a line of reports/metrics.jsonl (<c>"record":"run"</c>): it started (and which checks
/// a full run has), which versions the cluster runs, how it ended. The gate needs these to tell a partial, stopped or
/// killed run from a complete one: a run's metric lines alone cannot show a check that never ran.
/// </summary>
/// <param name="Event"><see cref="RunEvents.Started"/>, <see cref="RunEvents.Versions"/> or <see cref="RunEvents.Ended"/>.</param>
/// <param name="ExpectedChecks">On <c>started</c>: every check a full run of the profile has (NUnit test method names).</param>
/// <param name="CpuSeconds">On <c>ended</c>: CPU time of the process that ran the checks (the test host), from its start.</param>
/// <param name="PeakWorkingSetMb">On <c>ended</c>: that process's peak resident memory.</param>
/// <param name="JitSeconds">On <c>ended</c>: the part of that CPU time the JIT compiler spent (<see cref="System.Runtime.JitInfo"/>),
/// with <paramref name="JitMethods"/> methods compiled: what a run pays before and beside its own work.</param>
/// <param name="GcPauseSeconds">On <c>ended</c>: how long the garbage collector paused the process in total.</param>
/// <param name="Mode">On <c>started</c>: <see cref="RunModes.SideBySide"/> or <see cref="RunModes.Sequential"/> (null: an
/// older harness, which ran one check at a time).</param>
/// <param name="ClusterUid">On <c>versions</c>: the UID of the cluster's <c>kube-system</c> namespace (its identity, see
/// <see cref="Harness.Faults.ClusterIdentity"/>); the gate compares a run only with earlier runs of the same cluster.
/// Null for runs of older harnesses.</param>
/// <param name="Outcome">On <c>ended</c>: <see cref="RunOutcomes.Completed"/>, <see cref="RunOutcomes.Stopped"/> or <see cref="RunOutcomes.Interrupted"/>.</param>
public sealed record RunRecord(
    string RunId, DateTimeOffset At, string Profile, string Event,
    IReadOnlyList<string>? ExpectedChecks = null,
    string? ServerVersion = null, string? KubeletVersions = null,
    string? Outcome = null, string? Reason = null, string? Mode = null, double? CpuSeconds = null, double? PeakWorkingSetMb = null,
    double? JitSeconds = null, long? JitMethods = null, double? GcPauseSeconds = null, string? Runtimes = null, string? ClusterUid = null)
{
    public string Record { get; init; } = Metrics.RunRecordKind;
}

public static class RunEvents
{
    public const string Started = "started", Versions = "versions", Ended = "ended";
}

/// <summary>How the checks of a run were scheduled: recovery figures of the two are not compared with each other.</summary>
public static class RunModes
{
    public const string SideBySide = "side by side", Sequential = "sequential";

    /// <summary>
    /// The run parameter naming the mode, set beside NUnit's workers: not given (runsettings.xml's 12 workers) or
    /// side-by-side, or sequential from ./verify --sequential (with NUnit.NumberOfTestWorkers=0).
    /// </summary>
    public const string Parameter = "runMode";

    /// <summary>The mode a <see cref="Parameter"/> value names (none given: side by side); null for a value it does not know.</summary>
    public static string? FromParameter(string? value) => value switch
    {
        null or "side-by-side" => SideBySide,
        "sequential" => Sequential,
        _ => null,
    };
}

/// <summary>A check's outcome as the metrics record it, besides NUnit's passed/failed/broken/skipped.</summary>
public static class CheckOutcomes
{
    public const string Passed = "passed";
    /// <summary>The profile says the cluster has nothing for the check to check (no CoreDNS, a component kept out of
    /// reach): the gate reads it as neither green nor red for that check.</summary>
    public const string NotApplicable = "not applicable";

    /// <summary>What lets a run be fully green and a version be bumped.</summary>
    public static bool IsGreen(string? status) => status is Passed or NotApplicable;
}

public static class RunOutcomes
{
    /// <summary>The checks ran; their own results decide.</summary>
    public const string Completed = "completed";
    /// <summary>The run stopped before or between checks (unreachable cluster, bad input, busy lease, unhealthy preflight, heal failure).</summary>
    public const string Stopped = "stopped";
    /// <summary>Ctrl-C or SIGTERM.</summary>
    public const string Interrupted = "interrupted";

    public static readonly IReadOnlySet<string> All = new HashSet<string> { Completed, Stopped, Interrupted };
}

/// <summary>Everything reports/metrics.jsonl holds: per-check metrics and run records, each in file order.</summary>
public sealed record MetricsHistory(IReadOnlyList<Metric> Metrics, IReadOnlyList<RunRecord> Runs)
{
    public static readonly MetricsHistory Empty = new([], []);
}

/// <summary>
/// What reports/metrics.jsonl is: its record kinds, and reading it back (the gate judges runs from it). A run writes
/// to it through its own <see cref="RunMetrics"/>.
/// </summary>
public static class Metrics
{
    public const string MetricRecord = "metric", RunRecordKind = "run";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // ---- reading ---------------------------------------------------------------------------------------------------

    /// <summary>The per-check metric lines only (run records left out).</summary>
    public static IReadOnlyList<Metric> ReadAll(string path) => ReadHistory(path).Metrics;

    /// <summary>Metrics and run records; a line that is not valid JSON (e.g. cut short by a killed run) is skipped.</summary>
    public static MetricsHistory ReadHistory(string path)
    {
        if (!File.Exists(path)) return MetricsHistory.Empty;
        var metrics = new List<Metric>();
        var runs = new List<RunRecord>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var kind = document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("record", out var record) && record.ValueKind == JsonValueKind.String
                        ? record.GetString() : MetricRecord;
                if (kind == RunRecordKind)
                {
                    if (document.RootElement.Deserialize<RunRecord>(Json) is { RunId: not null, Event: not null } run) runs.Add(run);
                }
                else if (document.RootElement.Deserialize<Metric>(Json) is { RunId: not null, Check: not null } metric) metrics.Add(metric);
            }
            catch (JsonException) { }
        }
        return new MetricsHistory(metrics, runs);
    }
}

/// <summary>
/// One run's lines in the JSON-lines file that accumulates across runs: recovery timings and run records. Each check
/// writes through its own <see cref="CheckMetrics"/>, which also shows the timings in the check's report.
/// </summary>
public sealed class RunMetrics(string filePath, string runId, string profile)
{
    private readonly Lock _append = new();

    public string FilePath { get; } = filePath;
    public string RunId { get; } = runId;
    public string Profile { get; } = profile;

    /// <summary>The API server's version, once it answered; every metric line carries it.</summary>
    public string KubernetesVersion { get; set; } = "";

    public Metric Record(string check, string phase, TimeSpan duration)
    {
        var metric = new Metric(RunId, DateTimeOffset.UtcNow, Profile, KubernetesVersion, check, phase,
            Math.Round(duration.TotalSeconds, 3));
        Append(metric);
        return metric;
    }

    /// <summary>The check's outcome (passed/failed/broken/skipped), so the gate can find the last green run.</summary>
    public void RecordOutcome(string check, string status) =>
        Append(new Metric(RunId, DateTimeOffset.UtcNow, Profile, KubernetesVersion, check, Gate.ResultPhase, 0, status));

    // ---- run records -----------------------------------------------------------------------------------------------

    /// <summary>
    /// The first thing a run does. <paramref name="expectedChecks"/>: the names of every check a full run of this
    /// profile has, as <see cref="RecordOutcome"/> names them; a run that ends without a result for one of them is partial.
    /// </summary>
    public void RunStarted(IReadOnlyList<string> expectedChecks, string mode = RunModes.Sequential) =>
        Append(new RunRecord(RunId, DateTimeOffset.UtcNow, Profile, RunEvents.Started, ExpectedChecks: [.. expectedChecks], Mode: mode));

    /// <summary>Once the cluster answered: its server version and its nodes' kubelet versions (e.g. "v1.20.2"), and the
    /// container runtimes its nodes report (<c>docker://20.10.24, containerd://1.6.20</c>; the gate compares recoveries
    /// only between runs on the same runtimes), and which cluster it is (its kube-system UID: the gate's history is that cluster's).</summary>
    public void RunVersions(string serverVersion, string kubeletVersions, string? runtimes = null, string? clusterUid = null)
    {
        if (string.IsNullOrEmpty(KubernetesVersion)) KubernetesVersion = serverVersion;
        Append(new RunRecord(RunId, DateTimeOffset.UtcNow, Profile, RunEvents.Versions,
            ServerVersion: serverVersion, KubeletVersions: kubeletVersions, Runtimes: runtimes, ClusterUid: clusterUid));
    }

    /// <summary>The last thing a run does. <paramref name="outcome"/>: one of <see cref="RunOutcomes"/>; <paramref name="reason"/> says why it stopped.</summary>
    public void RunEnded(string outcome, string? reason)
    {
        if (!RunOutcomes.All.Contains(outcome))
            throw new ArgumentException($"run outcome '{outcome}' is none of {string.Join(", ", RunOutcomes.All)}", nameof(outcome));
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        Append(new RunRecord(RunId, DateTimeOffset.UtcNow, Profile, RunEvents.Ended, Outcome: outcome, Reason: reason,
            CpuSeconds: Math.Round(self.TotalProcessorTime.TotalSeconds, 1), PeakWorkingSetMb: Math.Round(self.PeakWorkingSet64 / 1048576.0),
            JitSeconds: Math.Round(System.Runtime.JitInfo.GetCompilationTime().TotalSeconds, 1), JitMethods: System.Runtime.JitInfo.GetCompiledMethodCount(),
            GcPauseSeconds: Math.Round(GC.GetTotalPauseDuration().TotalSeconds, 2)));
    }

    private void Append<T>(T line)
    {
        lock (_append)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(FilePath))!);
            File.AppendAllText(FilePath, JsonSerializer.Serialize(line, Metrics.Json) + "\n");
        }
    }
}

/// <summary>
/// One check's figures: each goes to the run's metrics file and, as an excluded parameter (so it does not split the
/// check's history), into the check's report. The outcome is recorded once, however the check ends.
/// </summary>
public sealed class CheckMetrics(RunMetrics run, string check, TestScope report)
{
    private int _outcomeRecorded;

    public string Check { get; } = check;

    public void Record(string phase, TimeSpan duration)
    {
        var metric = run.Record(Check, phase, duration);
        report.Parameter($"{phase} seconds", metric.Seconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), excluded: true);
    }

    /// <summary>This run's verdict on the check, for the gate; only the first call counts.</summary>
    public void RecordOutcome(string status)
    {
        if (Interlocked.Exchange(ref _outcomeRecorded, 1) == 1) return;
        run.RecordOutcome(Check, status);
    }
}
