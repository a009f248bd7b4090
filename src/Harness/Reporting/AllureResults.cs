using System.Text;
using System.Text.Json;
using Harness.Text;

namespace Harness.Reporting;

/// <summary>
/// The run's results folder and the run-level files in it (environment, executor, categories).
/// Folder, first found: the test run parameter <c>allureResults</c> (the caller reads it from its test framework),
/// env <c>VERIFICATION_ALLURE_RESULTS</c>, <c>&lt;repo root&gt;/reports/allure-results</c>.
/// </summary>
public static class AllureResults
{
    public const string EnvironmentVariable = "VERIFICATION_ALLURE_RESULTS";
    public const string RunParameter = "allureResults";

    /// <param name="fromRunParameter">The value of the run parameter <see cref="RunParameter"/>, if the run has one.</param>
    public static string ResolveDirectory(string? fromRunParameter = null)
    {
        if (!string.IsNullOrWhiteSpace(fromRunParameter)) return fromRunParameter;
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment;
        var root = RepositoryRoot();
        return root is null
            ? Path.Combine(AppContext.BaseDirectory, "allure-results")
            : Path.Combine(root, "reports", "allure-results");
    }

    /// <summary>First ancestor of the test binaries that holds <c>Verification.sln</c>.</summary>
    public static string? RepositoryRoot(string? from = null)
    {
        for (var dir = new DirectoryInfo(from ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Verification.sln"))) return dir.FullName;
        return null;
    }

    /// <summary>
    /// Starts a run: removes the previous run's files (keeping <c>history/</c>, which Allure 2 needs for trends)
    /// and writes <c>environment.properties</c>, <c>executor.json</c> and <c>categories.json</c>.
    /// </summary>
    public static void StartRun(AllureWriter results, IDictionary<string, string> environment, Executor? executor = null,
        IReadOnlyList<Category>? categories = null)
    {
        var dir = results.Directory;
        System.IO.Directory.CreateDirectory(dir);
        foreach (var file in System.IO.Directory.EnumerateFiles(dir))
            if (IsRunFile(Path.GetFileName(file))) File.Delete(file);

        WriteEnvironment(results, environment);
        executor ??= new Executor(Environment.MachineName) { BuildName = $"local run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC" };
        WriteJson(Path.Combine(dir, "executor.json"), executor);
        WriteJson(Path.Combine(dir, "categories.json"), categories ?? Categories);
    }

    /// <summary>(Re)writes environment.properties: the run starts with what it knows, and adds the cluster's facts once it answered.</summary>
    public static void WriteEnvironment(AllureWriter results, IDictionary<string, string> environment) =>
        File.WriteAllText(Path.Combine(results.Directory, "environment.properties"), EnvironmentProperties(environment), new UTF8Encoding(false));

    private static bool IsRunFile(string name) =>
        name.Contains("-result.json") || name.Contains("-container.json") || name.Contains("-attachment")
        || name is "environment.properties" or "executor.json" or "categories.json";

    /// <summary>
    /// First match wins, so the specific categories come before the catch-all product defect.
    /// The regexes use <c>^…[\s\S]*$</c> rather than <c>(?s)</c>: Allure 2 (Java) needs a whole-message match,
    /// Allure 3 (JavaScript) rejects inline flags and does not anchor by itself.
    /// </summary>
    public static readonly IReadOnlyList<Category> Categories =
    [
        new("Cluster not healthy: run stopped before any fault", [Status.Failed])
        {
            Description = "Preflight found a component of the cluster down (it is named with its node and where to look); no check ran, nothing was injected.",
            MessageRegex = @"^[\s\S]*Cluster health:[\s\S]*$",
        },
        new("Run stopped before the checks", [Status.Broken])
        {
            Description = "Bad input, an unreachable or busy cluster, faults an earlier run left that could not be healed, or an interruption: the checks did not run.",
            MessageRegex = @"^[\s\S]*Run (stopped|interrupted)[\s\S]*$",
        },
        new("Unreverted fault", [Status.Failed, Status.Broken])
        {
            Description = "A fault's revert did not run or did not succeed: the cluster may still be broken. Heal it before the next run.",
            MessageRegex = @"^[\s\S]*Unreverted fault[\s\S]*$",
        },
        new("Blocked by an earlier check", [Status.Broken, Status.Skipped, Status.Failed])
        {
            Description = "Not run because an earlier check left the cluster unusable.",
            MessageRegex = @"^[\s\S]*Blocked:[\s\S]*$",
        },
        new("Harness or infrastructure problem", [Status.Broken])
        {
            Description = "SSH or the API was unreachable, or the harness itself timed out: not a verdict on Kubernetes.",
            MessageRegex = @"^[\s\S]*(Infrastructure:|Preflight:|SSH|[Uu]nreachable|Harness timeout|HttpRequestException|SocketException|Connection refused)[\s\S]*$",
        },
        new("Cluster did not recover", [Status.Failed])
        {
            Description = "Product defect: the cluster did not show the symptom or did not recover as the book says.",
            MessageRegex = @"^[\s\S]*$",
        },
    ];

    // Java properties: escape backslash, separators and line breaks; keys may not contain spaces.
    private static string EnvironmentProperties(IDictionary<string, string> environment)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in environment)
            text.Append(Escape(Secrets.Redact(key), isKey: true)).Append('=').Append(Escape(Secrets.Redact(value), isKey: false)).Append('\n');
        return text.ToString();

        static string Escape(string s, bool isKey)
        {
            var escaped = s.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace("=", "\\=").Replace(":", "\\:");
            return isKey ? escaped.Replace(" ", "\\ ") : escaped;
        }
    }

    private static void WriteJson<T>(string path, T value) =>
        File.WriteAllText(path, JsonSerializer.Serialize(value, AllureJson.Options), new UTF8Encoding(false));
}
