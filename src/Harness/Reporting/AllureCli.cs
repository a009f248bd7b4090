using CliWrap;
using CliWrap.Buffered;

namespace Harness.Reporting;

/// <summary>What <c>tools/allure/render</c> did: <see cref="Rendered"/> is false when Node.js was missing (not an error).</summary>
public sealed record AllureRender(int ExitCode, string Output, string Error, string ReportDirectory)
{
    public bool Rendered => ExitCode == 0 && File.Exists(Path.Combine(ReportDirectory, "index.html"));
}

/// <summary>
/// What <c>tools/allure/quality-gate</c> said about a results folder: Allure 3's own rules (<c>allurerc.mjs</c>: every
/// expected check has a result, none failed). <see cref="Evaluated"/> is false when it could not run (no Node.js 20+,
/// no results folder); <see cref="Failures"/> are the CLI's lines for the rules that failed.
/// </summary>
public sealed record AllureQualityGate(int ExitCode, string Output, string Error)
{
    public const int NotEvaluatedExitCode = 3;

    public bool Evaluated => ExitCode is 0 or 1;
    public bool Passed => ExitCode == 0;

    public IReadOnlyList<string> Failures =>
        [.. (Output + "\n" + Error).Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('⨯')).Select(Failure)];

    // " ⨯ The total number of tests 1 is less than the expected threshold value 9    checks/minTestsCount"
    private static string Failure(string line)
    {
        var parts = System.Text.RegularExpressions.Regex.Split(line.TrimStart('⨯').Trim(), @"\s{2,}");
        return parts.Length == 2 ? $"{parts[0]} ({parts[1]})" : string.Join(" ", parts);
    }
}

/// <summary>Runs the repository's <c>tools/allure/render</c> script (the pinned Allure 3 CLI) from C#.</summary>
public static class AllureCli
{
    public static string ScriptPath() => Path.Combine(RepositoryRoot(), "tools", "allure", "render");

    private static string RepositoryRoot() => AllureResults.RepositoryRoot()
        ?? throw new InvalidOperationException($"Infrastructure: no Verification.sln above {AppContext.BaseDirectory}, so tools/allure/render cannot be found");

    /// <summary>
    /// Renders <paramref name="resultsDirectory"/> (default: the run's results) into <paramref name="reportDirectory"/>
    /// (default: <c>reports/allure-report</c>). <paramref name="historyPath"/> overrides <c>reports/history.jsonl</c>.
    /// <paramref name="settings"/>: more of allurerc.mjs's environment variables (e.g. a fleet's VERIFICATION_ENVIRONMENTS).
    /// </summary>
    public static async Task<AllureRender> RenderAsync(
        string? resultsDirectory = null, string? reportDirectory = null, string? historyPath = null,
        CancellationToken cancellationToken = default, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var script = ScriptPath();
        var results = resultsDirectory ?? AllureResults.ResolveDirectory();
        var report = reportDirectory ?? Path.Combine(RepositoryRoot(), "reports", "allure-report");
        var environment = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        if (historyPath is not null) environment["VERIFICATION_ALLURE_HISTORY"] = historyPath;

        var run = await Cli.Wrap("bash")
            .WithArguments([script, results, Path.GetFullPath(report)])
            .WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken);
        return new AllureRender(run.ExitCode, run.StandardOutput, run.StandardError, Path.GetFullPath(report));
    }

    /// <summary>
    /// Evaluates Allure 3's quality gate on <paramref name="resultsDirectory"/> with <c>tools/allure/quality-gate</c>.
    /// <paramref name="expectedChecks"/>: the checks a full run has (the rules' minTestsCount; empty: not known, so
    /// only maxFailures applies); null leaves it to the newest "started" run record in <c>reports/metrics.jsonl</c>.
    /// <paramref name="settings"/>: more of allurerc.mjs's environment variables (e.g. a fleet's VERIFICATION_ENVIRONMENTS).
    /// </summary>
    public static async Task<AllureQualityGate> QualityGateAsync(
        string resultsDirectory, IReadOnlyList<string>? expectedChecks, CancellationToken cancellationToken = default,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var script = Path.Combine(RepositoryRoot(), "tools", "allure", "quality-gate");
        var environment = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        if (expectedChecks is not null) environment["VERIFICATION_EXPECTED_CHECKS"] = string.Join(",", expectedChecks);
        var run = await Cli.Wrap("bash")
            .WithArguments([script, Path.GetFullPath(resultsDirectory)])
            .WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken);
        return new AllureQualityGate(run.ExitCode, run.StandardOutput, run.StandardError);
    }

    /// <summary>Whether <c>node</c> and <c>npm</c> are on PATH (the render script needs both).</summary>
    public static bool NodeAvailable() =>
        new[] { "node", "npm" }.All(tool => (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool))));
}
