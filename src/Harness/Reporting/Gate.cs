using System.Globalization;
using System.Text;

namespace Harness.Reporting;

/// <summary>One check in the gate's table: its status now and each recovery figure now vs the baseline.</summary>
public sealed record GateRow(string Check, string Status, string? BaselineStatus, IReadOnlyList<GateFigure> Figures);

public sealed record GateFigure(string Phase, double Now, double? Baseline, bool Slower);

public sealed record GateVerdict(string RunId, string? BaselineRunId, IReadOnlyList<GateRow> Rows, IReadOnlyList<string> Reasons)
{
    public bool MayBump => Reasons.Count == 0;
}

/// <summary>
/// "May I bump the version?": the newest run of a profile against its last fully green run. Red when a check failed,
/// a fault was left unreverted, or a recovery took more than <c>factor</c> × the baseline (and at least
/// <c>minimumSlowdownSeconds</c> more, so a 0.2 s → 0.5 s wobble is not a false alarm).
/// </summary>
public static class Gate
{
    public const string ResultPhase = "result";

    public static GateVerdict Evaluate(IReadOnlyList<Metric> metrics, string profile, double factor, double minimumSlowdownSeconds,
        IReadOnlyList<string> unrevertedFaults, string? runId = null)
    {
        var ofProfile = metrics.Where(m => m.Profile == profile).ToList();
        var runs = ofProfile.GroupBy(m => m.RunId).OrderBy(g => g.Min(m => m.At)).ToList();
        var reasons = new List<string>();
        var current = runId is null ? runs.LastOrDefault() : runs.FirstOrDefault(r => r.Key == runId);
        if (current is null)
            return new GateVerdict(runId ?? "", null, [], [$"no run of profile '{profile}' in the metrics: run ./verify first"]);

        var baseline = runs.TakeWhile(r => r.Key != current.Key).LastOrDefault(IsGreen);
        var rows = new List<GateRow>();
        foreach (var check in current.Select(m => m.Check).Distinct().Order())
        {
            var status = Status(current, check) ?? "unknown";
            if (status != "passed") reasons.Add($"{check} {status}");
            var figures = new List<GateFigure>();
            foreach (var phase in current.Where(m => m.Check == check && m.Phase != ResultPhase).Select(m => m.Phase).Distinct())
            {
                var now = current.Where(m => m.Check == check && m.Phase == phase).Max(m => m.Seconds);
                double? before = baseline?.Where(m => m.Check == check && m.Phase == phase).Select(m => (double?)m.Seconds).Max();
                var slower = phase == "recovery" && before is { } b && now > b * factor && now - b >= minimumSlowdownSeconds;
                if (slower)
                    reasons.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{check} recovery {now:0.0} s is more than {factor:0.#}× the baseline {before:0.0} s"));
                figures.Add(new GateFigure(phase, now, before, slower));
            }
            rows.Add(new GateRow(check, status, baseline is null ? null : Status(baseline, check), figures));
        }
        if (!rows.Any()) reasons.Add($"run {current.Key} recorded no check");
        reasons.AddRange(unrevertedFaults.Select(f => $"unreverted fault: {f}"));
        return new GateVerdict(current.Key, baseline?.Key, rows, reasons);
    }

    private static bool IsGreen(IEnumerable<Metric> run)
    {
        var results = run.Where(m => m.Phase == ResultPhase).ToList();
        return results.Count > 0 && results.All(m => m.Status == "passed");
    }

    private static string? Status(IEnumerable<Metric> run, string check) =>
        run.LastOrDefault(m => m.Check == check && m.Phase == ResultPhase)?.Status;

    public static string Format(GateVerdict verdict)
    {
        var text = new StringBuilder();
        text.AppendLine($"run {verdict.RunId} vs baseline {verdict.BaselineRunId ?? "(no earlier green run)"}");
        // The check column is as wide as the longest name: the suite's test names run to 60+ characters.
        var width = verdict.Rows.Select(r => r.Check.Length).Append("check".Length).Max();
        text.AppendLine($"{"check".PadRight(width)} {"status",-8} {"recovery now",12} {"baseline",10}  note");
        foreach (var row in verdict.Rows)
        {
            var recovery = row.Figures.FirstOrDefault(f => f.Phase == "recovery");
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Check.PadRight(width)} {row.Status,-8} {Seconds(recovery?.Now),12} {Seconds(recovery?.Baseline),10}  {(recovery?.Slower == true ? "SLOWER" : "")}").TrimEnd());
        }
        text.AppendLine(verdict.MayBump ? "verdict: GREEN — the version may be bumped"
            : "verdict: RED — do not bump:\n  - " + string.Join("\n  - ", verdict.Reasons));
        return text.ToString();
    }

    private static string Seconds(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-";
}
