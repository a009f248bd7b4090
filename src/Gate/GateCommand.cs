using System.Globalization;
using CliWrap;
using Harness.Faults;
using Harness.Profiles;
using Harness.Reporting;

namespace VersionGate;

/// <summary>
/// The version-bump gate: judges the newest run of a profile in reports/metrics.jsonl (or a fresh ./verify run)
/// against its last fully green run, and adds the faults still open in the ledger.
/// </summary>
public static class GateCommand
{
    public const int MayBump = 0, DoNotBump = 1, BadInput = 2;

    public const string Usage =
        "usage: ./verify gate [--profile lab] [--factor 2] [--min-slowdown 5] [--metrics reports/metrics.jsonl] [--ledger <file>] [--run] [-- <./verify arguments>]\n" +
        "   or: dotnet run --project src/Gate -- <the same options>\n" +
        "Exit 0: the version may be bumped; 1: it may not (the table says why); 2: bad input.\n" +
        "--run runs ./verify --profile <p> first and judges that run; without it the newest recorded run is judged.\n" +
        "--ledger defaults to the profile's safety.ledgerFile.";

    private sealed record Options(string Profile, double Factor, double MinimumSlowdown, string? Metrics, string? Ledger, bool Run,
        IReadOnlyList<string> VerifyArguments);

    /// <param name="repositoryRoot">Where ./verify, fixtures/profiles and reports/ are; found from the binaries when null.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, string? repositoryRoot = null)
    {
        if (args is ["--help"] or ["-h"]) { await stdout.WriteLineAsync(Usage); return MayBump; }
        var root = repositoryRoot ?? AllureResults.RepositoryRoot() ?? AllureResults.RepositoryRoot(Directory.GetCurrentDirectory());
        Options options;
        ClusterProfile profile;
        try
        {
            options = Parse(args);
            if (root is null) throw new ArgumentException("cannot find the repository (no Verification.sln above this program or the current folder)");
            profile = ProfileLoader.Load(options.Profile, Path.Combine(root, "fixtures", "profiles"));
        }
        catch (Exception e) when (e is ArgumentException or ProfileException)
        {
            await stderr.WriteLineAsync($"gate: {e.Message}\n{Usage}");
            return BadInput;
        }

        var metricsPath = Path.GetFullPath(options.Metrics ?? Path.Combine(root, "reports", "metrics.jsonl"));
        // A path typed on the command line is relative to the current folder; the profile's own is relative to the profile.
        var ledger = new FaultLedger(options.Ledger is { } typed ? Path.GetFullPath(typed) : profile.ResolvePath(profile.Safety.LedgerFile));

        string? runId = null, verifyFailed = null;
        if (options.Run)
        {
            var before = RunIds(metricsPath);
            var exitCode = await RunVerifyAsync(root, options, stdout, stderr);
            runId = RunIds(metricsPath).Except(before).LastOrDefault();
            if (runId is null)
            {
                await stderr.WriteLineAsync($"gate: ./verify (exit code {exitCode}) recorded no run in {metricsPath}; see its output above.");
                return DoNotBump;
            }
            if (exitCode != 0) verifyFailed = $"./verify exited with code {exitCode}";
        }
        else if (!File.Exists(metricsPath))
        {
            await stderr.WriteLineAsync($"gate: no metrics file at {metricsPath}: run ./verify first, pass --metrics <file>, or use --run.");
            return BadInput;
        }

        var unreverted = ledger.OpenEntries().Select(e => $"{e.Fault} on {e.Node} ({e.Revert})").ToList();
        var verdict = Gate.Evaluate(Metrics.ReadAll(metricsPath), profile.Name, options.Factor, options.MinimumSlowdown, unreverted, runId);
        if (verifyFailed is not null) verdict = verdict with { Reasons = [.. verdict.Reasons, verifyFailed] };

        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"gate: profile {profile.Name}, slower = more than {options.Factor:0.##}× and {options.MinimumSlowdown:0.##} s over the baseline; metrics {metricsPath}; ledger {ledger.Path}"));
        await stdout.WriteAsync(Gate.Format(verdict));
        return verdict.MayBump ? MayBump : DoNotBump;
    }

    private static Options Parse(string[] args)
    {
        var options = new Options(Environment.GetEnvironmentVariable("VERIFICATION_PROFILE") ?? "lab", 2, 5, null, null, false, []);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--") { options = options with { VerifyArguments = args[(i + 1)..] }; break; }
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--profile" => options with { Profile = Value() },
                "--factor" => options with { Factor = Number(args[i], Value(), minimum: 1) },
                "--min-slowdown" => options with { MinimumSlowdown = Number(args[i], Value(), minimum: 0) },
                "--metrics" => options with { Metrics = Value() },
                "--ledger" => options with { Ledger = Value() },
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

    private static HashSet<string> RunIds(string metricsPath) => Metrics.ReadAll(metricsPath).Select(m => m.RunId).ToHashSet();

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
