using CliWrap;
using CliWrap.Buffered;

namespace Harness.Reporting;

/// <summary>What <c>tools/allure/render</c> did: <see cref="Rendered"/> is false when Node.js was missing (not an error).</summary>
public sealed record AllureRender(int ExitCode, string Output, string Error, string ReportDirectory)
{
    public bool Rendered => ExitCode == 0 && File.Exists(Path.Combine(ReportDirectory, "index.html"));
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
    /// </summary>
    public static async Task<AllureRender> RenderAsync(
        string? resultsDirectory = null, string? reportDirectory = null, string? historyPath = null,
        CancellationToken cancellationToken = default)
    {
        var script = ScriptPath();
        var results = resultsDirectory ?? AllureResults.Directory;
        var report = reportDirectory ?? Path.Combine(RepositoryRoot(), "reports", "allure-report");
        var environment = new Dictionary<string, string?>();
        if (historyPath is not null) environment["VERIFICATION_ALLURE_HISTORY"] = historyPath;

        var run = await Cli.Wrap("bash")
            .WithArguments([script, results, Path.GetFullPath(report)])
            .WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken);
        return new AllureRender(run.ExitCode, run.StandardOutput, run.StandardError, Path.GetFullPath(report));
    }

    /// <summary>Whether <c>node</c> and <c>npm</c> are on PATH (the render script needs both).</summary>
    public static bool NodeAvailable() =>
        new[] { "node", "npm" }.All(tool => (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool))));
}
