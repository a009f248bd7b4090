using Harness.Reporting;
using ScottPlot;

namespace VersionGate;

/// <summary>
/// Seconds of the <c>recovery</c> phase per check over the last runs of a profile, as a PNG: one line per check,
/// one x position per run (its date and Kubernetes version), so a slowdown after a version bump shows as a step.
/// </summary>
public static class RecoveryChart
{
    public const int DefaultRuns = 10;

    /// <summary>The PNG of the last <paramref name="lastRuns"/> runs (oldest on the left).</summary>
    public static byte[] Png(IReadOnlyList<GateRun> runs, string profile, int lastRuns = DefaultRuns, int width = 1200, int height = 800)
    {
        var shown = runs.TakeLast(lastRuns).ToList();
        var plot = new Plot();
        var checks = shown.SelectMany(r => r.Metrics).Where(m => m.Phase == Gate.RecoveryPhase)
            .Select(m => m.Check).Distinct().Order(StringComparer.Ordinal).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (var c = 0; c < checks.Count; c++)
        {
            // A run without a figure for the check (it failed or did not run) leaves a gap: the line joins the others.
            var points = shown.Select((run, x) => (x, seconds: run.Figure(checks[c], Gate.RecoveryPhase)))
                .Where(p => p.seconds is not null).ToList();
            var line = plot.Add.Scatter(points.Select(p => (double)p.x).ToArray(), points.Select(p => p.seconds!.Value).ToArray());
            line.LegendText = checks[c];
            line.Color = palette.GetColor(c);
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var x = 0; x < shown.Count; x++)
            ticks.AddMajor(x, $"{shown[x].Start.UtcDateTime:MM-dd HH:mm}\n{shown[x].Versions.Server ?? "?"}");
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsX(-0.5, Math.Max(shown.Count - 0.5, 0.5));
        plot.Axes.SetLimitsY(0, Math.Max(1, shown.SelectMany(r => r.Metrics).Where(m => m.Phase == Gate.RecoveryPhase)
            .Select(m => m.Seconds).DefaultIfEmpty(0).Max() * 1.15));

        plot.Title(checks.Count == 0
            ? $"Recovery seconds per check: no recovery figure in the last {shown.Count} runs of profile {profile}"
            : $"Recovery seconds per check, last {shown.Count} runs of profile {profile}");
        plot.YLabel("recovery (seconds)");
        plot.XLabel("run (UTC start, Kubernetes server version)");
        if (checks.Count > 0) plot.ShowLegend(Edge.Bottom);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
