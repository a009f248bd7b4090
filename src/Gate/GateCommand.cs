using System.Globalization;
using CliWrap;
using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Profiles;
using Harness.Reporting;

namespace VersionGate;

/// <summary>
/// The version-bump gate: judges the newest run of a profile in reports/metrics.jsonl (or a fresh ./verify run) as a
/// whole against the median of its last fully green runs, adds the faults still open in the ledger and Allure's own
/// quality gate, and can put the verdict with a recovery chart into the Allure results.
/// </summary>
public static class GateCommand
{
    public const int MayBump = 0, DoNotBump = 1, BadInput = 2;

    public const string Usage =
        "usage: ./verify gate [--profile lab] [--factor 2] [--min-slowdown 5] [--baseline-runs 3] [--metrics reports/metrics.jsonl]\n" +
        "                     [--ledger <file>] [--allure-results <dir>] [--chart <file.png>] [--chart-runs 10] [--run] [-- <./verify arguments>]\n" +
        "   or: dotnet run --project src/Gate -- <the same options>\n" +
        "Exit 0: the version may be bumped; 1: it may not (the table says why); 2: bad input.\n" +
        "--run runs ./verify --profile <p> first and judges that run; without it the newest recorded run is judged.\n" +
        "The baseline is the median of the last --baseline-runs fully green runs (completed, every check ran and passed).\n" +
        "Allure's own quality gate (tools/allure/quality-gate) is evaluated on --allure-results, else on the allure-results\n" +
        "folder beside the metrics file, when that folder exists. With --allure-results the verdict is also written there as\n" +
        "the result 'Version-bump gate' (the table and the recovery chart attached). --chart writes the chart to a PNG file.\n" +
        "--ledger defaults to the profile's ledger (safety.ledgerFile, or with safety.ledger: controlPlane the control plane's).";

    private sealed record Options(string Profile, GateRules Rules, string? Metrics, string? Ledger, bool Run,
        string? AllureResults, string? Chart, int ChartRuns, IReadOnlyList<string> VerifyArguments);

    /// <param name="repositoryRoot">Where ./verify, fixtures/profiles and reports/ are; found from the binaries when null.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, string? repositoryRoot = null)
    {
        if (args is ["--help"] or ["-h"]) { await stdout.WriteLineAsync(Usage); return MayBump; }
        return (await JudgeAsync(args, stdout, stderr, repositoryRoot)).ExitCode;
    }

    /// <summary><see cref="RunAsync"/> with the verdict it printed (null when it could not judge: bad input, no run
    /// recorded), for a caller that reports it in its own words (<c>./verify fleet</c>, one verdict per cluster).</summary>
    internal static async Task<(int ExitCode, GateVerdict? Verdict)> JudgeAsync(string[] args, TextWriter stdout, TextWriter stderr, string? repositoryRoot = null)
    {
        if (await Repository.ParseAsync(args, Parse, o => o.Profile, repositoryRoot, stderr, "gate", Usage) is not (var options, var profile, var root))
            return (BadInput, null);

        var metricsPath = Path.GetFullPath(options.Metrics ?? Path.Combine(root, "reports", "metrics.jsonl"));

        string? runId = null, verifyFailed = null;
        if (options.Run)
        {
            var before = RunIds(metricsPath);
            var exitCode = await RunVerifyAsync(root, options, stdout, stderr);
            // The newest of the runs ./verify added (by time: a file can hold more than one new run, e.g. a retried one).
            runId = Gate.Runs(Metrics.ReadHistory(metricsPath), profile.Name).LastOrDefault(r => !before.Contains(r.RunId))?.RunId;
            if (runId is null)
            {
                await stderr.WriteLineAsync($"gate: ./verify (exit code {exitCode}) recorded no run in {metricsPath}; see its output above.");
                return (DoNotBump, null);
            }
            if (exitCode != 0) verifyFailed = $"./verify exited with code {exitCode}";
        }
        else if (!File.Exists(metricsPath))
        {
            await stderr.WriteLineAsync($"gate: no metrics file at {metricsPath}: run ./verify first, pass --metrics <file>, or use --run.");
            return (BadInput, null);
        }

        var (unreverted, ledgerPath, ledgerUnread) = await UnrevertedAsync(profile, options.Ledger);
        var history = Metrics.ReadHistory(metricsPath);
        var verdict = Gate.Evaluate(history, profile.Name, options.Rules, unreverted, runId);
        if (verifyFailed is not null) verdict = verdict with { Reasons = [.. verdict.Reasons, verifyFailed] };
        // A ledger that cannot be read may hold an unreverted fault: no bump on that.
        if (ledgerUnread is not null) verdict = verdict with { Reasons = [.. verdict.Reasons, ledgerUnread] };

        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"gate: profile {profile.Name}, slower = more than {options.Rules.Factor:0.##}× and {options.Rules.MinimumSlowdownSeconds:0.##} s over the median of the last {options.Rules.BaselineRuns} fully green runs; metrics {metricsPath}; ledger {ledgerPath}"));

        // Allure's own quality gate judges the results folder of the same run: every expected check has a result, none failed.
        var resultsFolder = Path.GetFullPath(options.AllureResults ?? Path.Combine(Path.GetDirectoryName(metricsPath)!, "allure-results"));
        if (Directory.Exists(resultsFolder))
            verdict = await WithAllureQualityGateAsync(verdict, resultsFolder, stdout);

        var table = Gate.Format(verdict);
        await stdout.WriteAsync(table);

        if (options.AllureResults is not null || options.Chart is not null)
        {
            var chart = await DrawChartAsync(Gate.Runs(history, profile.Name), profile.Name, options.ChartRuns, stdout);
            if (options.Chart is { } chartFile && chart is not null)
            {
                await File.WriteAllBytesAsync(Path.GetFullPath(chartFile), chart);
                await stdout.WriteLineAsync($"gate: recovery chart at {Path.GetFullPath(chartFile)}");
            }
            if (options.AllureResults is not null)
            {
                WriteGateResult(verdict, table, chart, resultsFolder);
                await stdout.WriteLineAsync($"gate: wrote the result '{GateResultName}' (table{(chart is null ? "" : " and recovery chart")} attached) to {resultsFolder}");
            }
        }
        return (verdict.MayBump ? MayBump : DoNotBump, verdict);
    }

    public const string GateResultName = "Version-bump gate";
    public const string GateResultFullName = "Verification:VersionGate.GateCommand.VersionBumpGate";

    /// <summary>
    /// The profile's open ledger entries (a path typed on the command line is relative to the current folder; the
    /// profile's own is relative to the profile, or on the control plane with safety.ledger: controlPlane), where the
    /// ledger is, and why it could not be read (null when it was).
    /// </summary>
    private static async Task<(IReadOnlyList<string> Unreverted, string Where, string? Unread)> UnrevertedAsync(ClusterProfile profile, string? typed)
    {
        try
        {
            await using var opened = await ProfileLedger.OpenAsync(profile, typed is null ? null : Path.GetFullPath(typed), default);
            var unreverted = opened.Ledger.OpenEntriesOf(profile.Name).Select(e => $"{e.Fault} on {e.Node} ({e.Revert})").ToList();
            return (unreverted, opened.Ledger.Path, null);
        }
        catch (Exception e) when (e is ClusterUnreachableException or LedgerUnavailableException)
        {
            return ([], $"on {profile.ControlPlane} (not read)", $"the fault ledger could not be read, so unreverted faults cannot be ruled out: {e.Message}");
        }
    }

    // The picture helps the reader but is no part of the verdict: a machine where it cannot be drawn still gets one.
    private static async Task<byte[]?> DrawChartAsync(IReadOnlyList<GateRun> runs, string profile, int lastRuns, TextWriter stdout)
    {
        try
        {
            return RecoveryChart.Png(runs, profile, lastRuns);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            await stdout.WriteLineAsync($"gate: no recovery chart ({e.GetType().Name}: {e.Message})");
            return null;
        }
    }

    private static async Task<GateVerdict> WithAllureQualityGateAsync(GateVerdict verdict, string resultsFolder, TextWriter stdout)
    {
        var qualityGate = await AllureCli.QualityGateAsync(resultsFolder, verdict.ExpectedChecks);
        if (!qualityGate.Evaluated)
        {
            var why = (qualityGate.Error + qualityGate.Output).Trim().Split('\n')[0];
            await stdout.WriteLineAsync($"gate: Allure quality gate not evaluated on {resultsFolder}: {why}");
            return verdict;
        }
        await stdout.WriteLineAsync($"gate: Allure quality gate on {resultsFolder}: {(qualityGate.Passed ? "passed" : "failed")}");
        if (qualityGate.Passed) return verdict;
        var failures = qualityGate.Failures.Count > 0 ? qualityGate.Failures
            : [$"failed (exit {qualityGate.ExitCode}): {(qualityGate.Error + qualityGate.Output).Trim()}"];
        return verdict with { Reasons = [.. verdict.Reasons, .. failures.Select(f => $"Allure quality gate: {f}")] };
    }

    /// <summary>The verdict as a result of its own in the morning report: passed when GREEN, failed with the reasons when RED.</summary>
    private static void WriteGateResult(GateVerdict verdict, string table, byte[]? chart, string resultsFolder) =>
        WriteGateResult(verdict.MayBump, verdict.MayBump
                ? $"GREEN: the version may be bumped ({Gate.FormatVersions(verdict.Versions, verdict.BaselineVersions)})"
                : "RED: do not bump:\n" + string.Join("\n", verdict.Reasons),
            table, chart, resultsFolder);

    /// <summary>The result "Version-bump gate" with its verdict as the message; also written by ./verify fleet for a
    /// cluster that has no results to judge.</summary>
    internal static void WriteGateResult(bool green, string message, string table, byte[]? chart, string resultsFolder, IEnumerable<Label>? labels = null)
    {
        Directory.CreateDirectory(resultsFolder);
        Report.WriteStandaloneResult(
            GateResultName, GateResultFullName,
            green ? Status.Passed : Status.Failed,
            new AllureWriter(resultsFolder),
            message: message,
            textAttachments: [new("gate table", table)],
            labels: [new Label(AllureLabels.Suite, "Gate"), new Label(AllureLabels.Feature, "version bump"), .. labels ?? []],
            fileAttachments: chart is null ? [] : [new FileAttachment("recovery seconds per check", chart, "image/png", "png")]);
    }

    private static Options Parse(string[] args)
    {
        var options = new Options(Environment.GetEnvironmentVariable("VERIFICATION_PROFILE") ?? "lab", new GateRules(),
            null, null, false, null, null, RecoveryChart.DefaultRuns, []);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--") { options = options with { VerifyArguments = args[(i + 1)..] }; break; }
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--profile" => options with { Profile = Value() },
                "--factor" => options with { Rules = options.Rules with { Factor = Number(args[i], Value(), minimum: 1) } },
                "--min-slowdown" => options with { Rules = options.Rules with { MinimumSlowdownSeconds = Number(args[i], Value(), minimum: 0) } },
                "--baseline-runs" => options with { Rules = options.Rules with { BaselineRuns = Count(args[i], Value()) } },
                "--metrics" => options with { Metrics = Value() },
                "--ledger" => options with { Ledger = Value() },
                "--allure-results" => options with { AllureResults = Value() },
                "--chart" => options with { Chart = Value() },
                "--chart-runs" => options with { ChartRuns = Count(args[i], Value()) },
                "--run" => options with { Run = true },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }
        if (options.VerifyArguments.Count > 0 && !options.Run) throw new ArgumentException("arguments after -- are for ./verify and need --run");
        return options;
    }

    private static double Number(string option, string text, double minimum) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new ArgumentException($"{option} '{text}' is not a number of at least {minimum.ToString(CultureInfo.InvariantCulture)}");

    private static int Count(string option, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1
            ? value
            : throw new ArgumentException($"{option} '{text}' is not a whole number of at least 1");

    // A run shows up by its run records (also one stopped before any check) or, from older harnesses, by its metrics.
    private static HashSet<string> RunIds(string metricsPath)
    {
        var history = Metrics.ReadHistory(metricsPath);
        return history.Metrics.Select(m => m.RunId).Concat(history.Runs.Select(r => r.RunId)).ToHashSet();
    }

    private static async Task<int> RunVerifyAsync(string root, Options options, TextWriter stdout, TextWriter stderr)
    {
        // Ctrl-C reaches ./verify too (same process group), which then reverts its faults: the gate must outlive it,
        // or the closed pipe would kill the run in the middle of its reverts.
        ConsoleCancelEventHandler keepAlive = (_, e) => e.Cancel = true;
        Console.CancelKeyPress += keepAlive;
        try
        {
            await stdout.WriteLineAsync($"gate: running ./verify --profile {options.Profile} {string.Join(' ', options.VerifyArguments)}".TrimEnd());
            var result = await Cli.Wrap(Path.Combine(root, "verify"))
                .WithArguments(["--profile", options.Profile, .. options.VerifyArguments])
                .WithWorkingDirectory(root)
                .WithStandardOutputPipe(PipeTarget.ToDelegate(stdout.WriteLine))
                .WithStandardErrorPipe(PipeTarget.ToDelegate(stderr.WriteLine))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync();
            return result.ExitCode;
        }
        finally
        {
            Console.CancelKeyPress -= keepAlive;
        }
    }
}
