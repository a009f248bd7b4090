using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Profiles;
using Harness.Reporting;

namespace VersionGate;

/// <summary>
/// The fault ledger without a cluster: <c>./verify heal --list</c> shows the open entries with their ids, and
/// <c>./verify heal --forget &lt;id&gt;</c> closes one whose fault the user repaired by hand, without running its
/// revert (a revert that cannot work on that node would otherwise stay open for ever). A forget is reported as the
/// Allure result "Forget a ledger entry".
/// </summary>
public static class LedgerCommand
{
    /// <summary><see cref="Unreachable"/>: the ledger is on the control plane, which did not answer.</summary>
    public const int Done = 0, Unreachable = 1, BadInput = 2;
    public const string ForgetCheckName = "Forget a ledger entry";

    public const string Usage =
        "usage: ./verify heal --list               list the open entries of the fault ledger, with their ids\n" +
        "       ./verify heal --forget <entry id>  close an entry whose fault you repaired by hand; its revert is not run\n" +
        "   or: dotnet run --project src/Gate -- list | forget <entry id>  [--profile lab] [--ledger <file>] [--results <dir>]\n" +
        "--ledger defaults to the profile's ledger (safety.ledgerFile, or with safety.ledger: controlPlane the control plane's); --results to reports/allure-results. An id may be shortened to a unique prefix.";

    /// <summary>Whether these arguments are a ledger command rather than the gate's.</summary>
    public static bool Handles(string[] args) => args is ["list", ..] or ["forget", ..];

    private sealed record Options(string Verb, string? Id, string Profile, string? Ledger, string? Results);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, string? repositoryRoot = null)
    {
        if (await Repository.ParseAsync(args, Parse, o => o.Profile, repositoryRoot, stderr, "heal", Usage) is not (var options, var profile, var root))
            return BadInput;
        // A path typed on the command line is relative to the current folder; the profile's own is relative to the profile,
        // or on the control plane with safety.ledger: controlPlane.
        ProfileLedger opened;
        try { opened = await ProfileLedger.OpenAsync(profile, options.Ledger is { } typed ? Path.GetFullPath(typed) : null, default); }
        catch (ClusterUnreachableException e)
        {
            await stderr.WriteLineAsync($"heal: {e.Message}");
            return Unreachable;
        }
        await using (opened)
        {
            try { return await ListOrForgetAsync(options, opened.Ledger, root, stdout, stderr); }
            catch (LedgerUnavailableException e)
            {
                await stderr.WriteLineAsync($"heal: {e.Message}");
                return Unreachable;
            }
        }
    }

    private static async Task<int> ListOrForgetAsync(Options options, FaultLedger ledger, string root, TextWriter stdout, TextWriter stderr)
    {
        var open = ledger.OpenEntries();

        if (options.Verb == "list")
        {
            await stdout.WriteLineAsync($"heal: ledger {ledger.Path}: {Count(open.Count)} open");
            foreach (var entry in open) await stdout.WriteLineAsync($"  {Line(entry)}");
            if (open.Count > 0)
                await stdout.WriteLineAsync("heal: `./verify --profile <profile> heal` reverts a profile's own entries; " +
                                            "`./verify heal --forget <id>` closes one you repaired by hand.");
            return Done;
        }

        var matches = open.Where(e => e.Id == options.Id).ToList();
        if (matches.Count == 0 && options.Id!.Length >= 4) matches = open.Where(e => e.Id.StartsWith(options.Id, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count != 1)
        {
            var listed = matches.Count > 1 ? matches : open;
            var why = matches.Count > 1
                ? $"'{options.Id}' is the start of {matches.Count} open entries; give more of the id"
                : $"no open ledger entry '{options.Id}' in {ledger.Path}";
            await stderr.WriteLineAsync($"heal: {why}. {(open.Count == 0 ? "The ledger has no open entry." : "Open entries:")}" +
                                        string.Concat(listed.Select(e => $"\n  {Line(e)}")));
            return BadInput;
        }

        var forgotten = matches[0];
        if (RunLiveness.IsAlive(forgotten))
        {
            await stderr.WriteLineAsync(
                $"heal: ledger entry {forgotten.Id} belongs to run {forgotten.RunId}, which is still running (pid {forgotten.Pid} on {forgotten.Host}) " +
                "and reverts it itself; nothing was changed. Stop that run (Ctrl-C reverts its faults) if it is stuck.");
            return BadInput;
        }

        var started = DateTimeOffset.UtcNow;
        ledger.Forget(forgotten.Id);
        var message = $"ledger entry {forgotten.Id} closed as \"{FaultLedger.ForgottenOutcome}\" without running its revert ({forgotten.Revert}): " +
                      $"{forgotten.Fault} on {forgotten.Node}, injected {forgotten.InjectedAt:yyyy-MM-dd HH:mm:ss} UTC by {forgotten.Check}, run {forgotten.RunId}" +
                      (forgotten.HasIdentity ? $", profile {forgotten.Profile}, cluster {forgotten.ClusterUid}" : "");
        await stdout.WriteLineAsync($"heal: {message}");

        var results = new AllureWriter(options.Results is { } folder ? Path.GetFullPath(folder) : Path.Combine(root, "reports", "allure-results"));
        var file = Report.WriteStandaloneResult(ForgetCheckName, "Verification:Harness.ForgetLedgerEntry", Status.Passed, results, message,
            [new StepResult
            {
                Name = $"forget {forgotten.Id}: {forgotten.Fault} on {forgotten.Node} (revert not run: {forgotten.Revert})",
                Status = Status.Passed,
                StatusDetails = new StatusDetails($"the user said the node was repaired by hand; ledger {ledger.Path}"),
                Start = started.ToUnixTimeMilliseconds(),
                Stop = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            }],
            labels: [new Label("profile", forgotten.Profile ?? "unknown"), new Label("node", forgotten.Node)]);
        await stdout.WriteLineAsync($"heal: reported as \"{ForgetCheckName}\" in {file} (tools/allure/render shows it with the last run)");
        return Done;
    }

    private static string Count(int n) => n == 1 ? "1 entry" : $"{n} entries";

    private static string Line(LedgerEntry entry) =>
        entry.Describe() + (RunLiveness.IsAlive(entry) ? " — its run is still running" : "");

    private static Options Parse(string[] args)
    {
        var verb = args[0];
        var options = new Options(verb, null, Environment.GetEnvironmentVariable("VERIFICATION_PROFILE") ?? "lab", null, null);
        for (var i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--profile" => options with { Profile = Value() },
                "--ledger" => options with { Ledger = Value() },
                "--results" => options with { Results = Value() },
                var id when verb == "forget" && options.Id is null && !id.StartsWith('-') => options with { Id = id },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }
        if (verb == "forget" && string.IsNullOrWhiteSpace(options.Id))
            throw new ArgumentException("forget needs the id of a ledger entry (./verify heal --list shows them)");
        return options;
    }
}
