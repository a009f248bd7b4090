using System.Globalization;
using System.Text;

namespace Harness.Reporting;

/// <summary>One check in the gate's table: its status in the judged run and each figure now vs the baseline median.</summary>
public sealed record GateRow(string Check, string Status, IReadOnlyList<GateFigure> Figures);

public sealed record GateFigure(string Phase, double Now, double? Baseline, bool Slower);

/// <summary>The Kubernetes server version and the nodes' kubelet versions of a run (null when it did not record them).</summary>
public sealed record KubernetesVersions(string? Server, string? Kubelet);

/// <param name="BaselineRunIds">The fully green runs whose median is the baseline, oldest first; empty when there is none.</param>
/// <param name="NotRun">Checks a full run has that the judged run has no result for, sorted.</param>
public sealed record GateVerdict(
    string RunId, IReadOnlyList<string> BaselineRunIds, IReadOnlyList<GateRow> Rows, IReadOnlyList<string> Reasons,
    KubernetesVersions Versions, KubernetesVersions? BaselineVersions, IReadOnlyList<string> ExpectedChecks, IReadOnlyList<string> NotRun)
{
    public bool MayBump => Reasons.Count == 0;
}

/// <summary>How strict the gate is: a recovery is slower when it takes more than <see cref="Factor"/> × the baseline
/// and at least <see cref="MinimumSlowdownSeconds"/> more; the baseline is the median of the last
/// <see cref="BaselineRuns"/> fully green runs.</summary>
public sealed record GateRules(double Factor = 2, double MinimumSlowdownSeconds = 5, int BaselineRuns = 3);

/// <summary>
/// One run of a profile as reports/metrics.jsonl tells it: its run records (started with the checks a full run has,
/// versions, ended with an outcome) and its per-check metric lines.
/// </summary>
public sealed record GateRun(string RunId, DateTimeOffset Start, IReadOnlyList<Metric> Metrics, IReadOnlyList<RunRecord> Records)
{
    public RunRecord? Started => Records.FirstOrDefault(r => r.Event == RunEvents.Started);
    public RunRecord? Ended => Records.LastOrDefault(r => r.Event == RunEvents.Ended);
    public IReadOnlyList<string> ExpectedChecks => Started?.ExpectedChecks ?? [];

    /// <summary>Side by side or sequential; runs of older harnesses ran one check at a time.</summary>
    public string Mode => Started?.Mode ?? RunModes.Sequential;

    /// <summary>From the run's versions record; runs of older harnesses only knew the server version of their metrics.</summary>
    public KubernetesVersions Versions => Records.LastOrDefault(r => r.Event == RunEvents.Versions) is { } versions
        ? new KubernetesVersions(versions.ServerVersion, versions.KubeletVersions)
        : new KubernetesVersions(Metrics.Select(m => m.KubernetesVersion).LastOrDefault(v => !string.IsNullOrEmpty(v)), null);

    /// <summary>
    /// The container runtimes the run's nodes reported, by name without their versions (<c>containerd</c>,
    /// <c>docker</c>): a recovery under dockershim is not comparable with one under containerd (kubelet restarts pods,
    /// pulls and static pods through another runtime), while a runtime's own version bump is what the gate is for.
    /// Null for runs of older harnesses.
    /// </summary>
    public string? Runtimes => Records.LastOrDefault(r => r.Event == RunEvents.Versions)?.Runtimes is { Length: > 0 } reported
        ? string.Join(", ", reported.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(r => r.Split("://")[0]).Distinct().Order(StringComparer.Ordinal))
        : null;

    /// <summary>The kube-system UID of the cluster the run ran against; null for a run of an older harness or one that
    /// stopped before the API answered.</summary>
    public string? ClusterUid => Records.LastOrDefault(r => !string.IsNullOrEmpty(r.ClusterUid))?.ClusterUid;

    /// <summary>
    /// Whether this run's figures may be a baseline for <paramref name="judged"/>: the same cluster (kube-system UID), so
    /// two clusters of one profile (a fleet's legs, a rebuilt lab) are not judged against each other. A run without a
    /// UID (older harness) is matched by its profile alone, as before.
    /// </summary>
    public bool SameClusterAs(GateRun judged) => ClusterUid is null || judged.ClusterUid is null || ClusterUid == judged.ClusterUid;

    /// <summary>The check's last recorded outcome in this run, or null when it has none.</summary>
    public string? StatusOf(string check) => Metrics.LastOrDefault(m => m.Check == check && m.Phase == Gate.ResultPhase)?.Status;

    /// <summary>Checks with a result or a figure in this run.</summary>
    public IEnumerable<string> RecordedChecks => Metrics.Select(m => m.Check).Distinct();

    public IReadOnlyList<string> NotRun => [.. ExpectedChecks.Where(c => StatusOf(c) is null).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The check's figure for a phase (the largest when it was measured more than once), or null.</summary>
    public double? Figure(string check, string phase) =>
        Metrics.Where(m => m.Check == check && m.Phase == phase).Select(m => (double?)m.Seconds).Max();

    /// <summary>It completed, has a result for every check a full run has, and every result passed.</summary>
    public bool FullyGreen =>
        Started is not null && Ended?.Outcome == RunOutcomes.Completed && ExpectedChecks.Count > 0 && NotRun.Count == 0
        && Metrics.Where(m => m.Phase == Gate.ResultPhase).GroupBy(m => m.Check).All(g => CheckOutcomes.IsGreen(g.Last().Status));
}

/// <summary>
/// "May I bump the version?": judges a whole run of a profile. Red when the run is not complete (no run record, stopped,
/// interrupted, killed, or a check a full run has did not run), a check did not pass, a fault was left unreverted, or a
/// recovery took more than <c>factor</c> × the baseline (and at least <c>minimumSlowdownSeconds</c> more, so a
/// 0.2 s → 0.5 s wobble is not a false alarm). The baseline is the median of the last K fully green runs before it,
/// so one slow or fast outlier does not move it.
/// </summary>
public static class Gate
{
    public const string ResultPhase = "result";
    public const string RecoveryPhase = "recovery";

    /// <summary>The runs of a profile, oldest first (by their first line).</summary>
    public static IReadOnlyList<GateRun> Runs(MetricsHistory history, string profile)
    {
        var metrics = history.Metrics.Where(m => m.Profile == profile).ToLookup(m => m.RunId);
        var records = history.Runs.Where(r => r.Profile == profile).ToLookup(r => r.RunId);
        return metrics.Select(g => g.Key).Union(records.Select(g => g.Key))
            .Select(id => new GateRun(id,
                metrics[id].Select(m => m.At).Concat(records[id].Select(r => r.At)).Min(),
                [.. metrics[id]], [.. records[id]]))
            .OrderBy(r => r.Start)
            .ToList();
    }

    public static GateVerdict Evaluate(MetricsHistory history, string profile, GateRules rules,
        IReadOnlyList<string> unrevertedFaults, string? runId = null)
    {
        var runs = Runs(history, profile);
        var current = runId is null ? runs.LastOrDefault() : runs.FirstOrDefault(r => r.RunId == runId);
        if (current is null)
        {
            var missing = runId is null
                ? $"no run of profile '{profile}' in the metrics: run ./verify first"
                : $"no run '{runId}' of profile '{profile}' in the metrics";
            return new GateVerdict(runId ?? "", [], [], [missing, .. unrevertedFaults.Select(f => $"unreverted fault: {f}")],
                new KubernetesVersions(null, null), null, [], []);
        }

        // Checks side by side share two cores with each other: their recoveries are compared with runs of the same mode
        // only; with runs on the same container runtimes (the lab's LAB_RUNTIME, a move from dockershim); and with runs
        // of the same cluster (kube-system UID).
        var baseline = runs.TakeWhile(r => r != current)
            .Where(r => r.FullyGreen && r.Mode == current.Mode && r.Runtimes == current.Runtimes && r.SameClusterAs(current))
            .TakeLast(rules.BaselineRuns).ToList();
        var reasons = new List<string>(RunReasons(current));
        var notRun = current.NotRun;
        if (notRun.Count > 0) reasons.Add($"not run: {string.Join(", ", notRun)}");

        var rows = new List<GateRow>();
        foreach (var check in current.ExpectedChecks.Union(current.RecordedChecks).Distinct().Order(StringComparer.Ordinal))
        {
            var status = current.StatusOf(check) ?? (notRun.Contains(check) ? "not run" : "unknown");
            if (!CheckOutcomes.IsGreen(status) && status != "not run") reasons.Add($"{check} {status}");
            var figures = new List<GateFigure>();
            foreach (var phase in current.Metrics.Where(m => m.Check == check && m.Phase != ResultPhase).Select(m => m.Phase).Distinct())
            {
                var now = current.Figure(check, phase)!.Value;
                var before = Median(baseline.Select(r => r.Figure(check, phase)).OfType<double>().ToList());
                var slower = phase == RecoveryPhase && before is { } b && now > b * rules.Factor && now - b >= rules.MinimumSlowdownSeconds;
                if (slower)
                    reasons.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{check} recovery {now:0.0} s is more than {rules.Factor:0.#}× the baseline {before:0.0} s"));
                figures.Add(new GateFigure(phase, now, before, slower));
            }
            rows.Add(new GateRow(check, status, figures));
        }
        if (rows.Count == 0 && current.Records.Count > 0) reasons.Add($"run {current.RunId} recorded no check");
        reasons.AddRange(unrevertedFaults.Select(f => $"unreverted fault: {f}"));

        var baselineVersions = baseline.Count == 0 ? null : new KubernetesVersions(
            Joined(baseline.Select(r => r.Versions.Server)), Joined(baseline.Select(r => r.Versions.Kubelet)));
        return new GateVerdict(current.RunId, [.. baseline.Select(r => r.RunId)], rows, reasons,
            current.Versions, baselineVersions, current.ExpectedChecks, notRun);
    }

    /// <summary>Why the run as a whole cannot be judged green: it has no run record, or did not end as "completed".</summary>
    private static IEnumerable<string> RunReasons(GateRun run)
    {
        if (run.Records.Count == 0)
        {
            yield return $"run {run.RunId} has no run record: it was written by an older harness, so whether every check ran " +
                         "cannot be told; run ./verify again";
            yield break;
        }
        if (run.Started is null) yield return $"run {run.RunId} has no start record, so the checks a full run has are unknown";
        var ended = run.Ended;
        var why = ended?.Outcome switch
        {
            null => "interrupted: the run has no end record (killed, or still running)",
            RunOutcomes.Completed => null,
            RunOutcomes.Stopped => $"stopped: {ended.Reason ?? "no reason recorded"}",
            RunOutcomes.Interrupted => $"interrupted (Ctrl-C or SIGTERM){(ended.Reason is { } reason ? ": " + reason : "")}",
            var other => $"the run ended with an unknown outcome '{other}'",
        };
        if (why is not null) yield return why;
    }

    public static double? Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    // The baseline's runs usually share one version; if they do not, all of them are named.
    private static string? Joined(IEnumerable<string?> versions)
    {
        var distinct = versions.OfType<string>().Where(v => v.Length > 0).Distinct().ToList();
        return distinct.Count == 0 ? null : string.Join("/", distinct);
    }

    /// <summary>e.g. <c>kubernetes v1.18.4 → v1.19.16 (kubelet v1.18.4 → v1.19.16)</c>; a version that did not change prints once.</summary>
    public static string FormatVersions(KubernetesVersions now, KubernetesVersions? baseline) =>
        $"kubernetes {Change(baseline?.Server, now.Server)} (kubelet {Change(baseline?.Kubelet, now.Kubelet)})";

    private static string Change(string? before, string? now)
    {
        now = string.IsNullOrEmpty(now) ? "unknown" : now;
        return string.IsNullOrEmpty(before) || before == now ? now : $"{before} → {now}";
    }

    public static string Format(GateVerdict verdict)
    {
        var text = new StringBuilder();
        text.AppendLine(verdict.BaselineRunIds switch
        {
            [] => $"run {verdict.RunId} vs baseline (no earlier fully green run)",
            [var one] => $"run {verdict.RunId} vs baseline {one}",
            var many => $"run {verdict.RunId} vs baseline median of {string.Join(", ", many)}",
        });
        text.AppendLine(FormatVersions(verdict.Versions, verdict.BaselineVersions));
        // The check column is as wide as the longest name: the suite's test names run to 60+ characters.
        var width = verdict.Rows.Select(r => r.Check.Length).Append("check".Length).Max();
        text.AppendLine($"{"check".PadRight(width)} {"status",-8} {"recovery now",12} {"baseline",10}  note");
        foreach (var row in verdict.Rows)
        {
            var recovery = row.Figures.FirstOrDefault(f => f.Phase == RecoveryPhase);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Check.PadRight(width)} {row.Status,-8} {Seconds(recovery?.Now),12} {Seconds(recovery?.Baseline),10}  {(recovery?.Slower == true ? "SLOWER" : "")}").TrimEnd());
        }
        text.AppendLine(verdict.MayBump ? "verdict: GREEN — the version may be bumped"
            : "verdict: RED — do not bump:\n  - " + string.Join("\n  - ", verdict.Reasons));
        return text.ToString();
    }

    private static string Seconds(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-";
}
