using System.Text.Json;
using CliWrap;
using Harness.Reporting;

namespace VersionGate.Fleet;

/// <summary>
/// <c>./verify fleet</c>: one leg (today's ./verify run) per cluster of a fleet file, merged into one Allure report with
/// an environment per cluster and a gate verdict per cluster. The four forms are the contract CI's workflow calls.
/// </summary>
public static class FleetCommand
{
    public const int Green = 0, Red = 1, BadInput = 2;
    public const string DefaultOut = "reports/fleet";

    public const string Usage =
        "usage: ./verify fleet FILE [--out DIR]            every leg on this machine (at most 'concurrency' at once), then --merge DIR\n" +
        "       ./verify fleet FILE --list                 the clusters' names as a JSON array on one line\n" +
        "       ./verify fleet FILE --cluster NAME --out DIR\n" +
        "                                                  one leg only, its results under DIR/NAME/\n" +
        "       ./verify fleet FILE --merge DIR            the gate on each leg under DIR/<name>/ against its cluster's history, and\n" +
        "                                                  one report (reports/allure-report) with an environment per cluster\n" +
        $"DIR defaults to {DefaultOut}. Exit 0: every cluster GREEN (--cluster: the leg's ./verify exit code); 1: RED; 2: bad input.";

    private sealed record Options(string File, bool List, string? Cluster, string? Out, string? Merge);

    /// <param name="stop">Ctrl-C or SIGTERM of the fleet: every running leg gets Ctrl-C and ends by itself, reverting its faults.</param>
    /// <param name="kill">Asked a second time: the legs' processes are killed.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, string? repositoryRoot = null,
        CancellationToken stop = default, CancellationToken kill = default)
    {
        if (args is [] or ["--help"] or ["-h"]) { await (args is [] ? stderr : stdout).WriteLineAsync(Usage); return args is [] ? BadInput : Green; }
        var root = repositoryRoot ?? AllureResults.RepositoryRoot() ?? AllureResults.RepositoryRoot(Directory.GetCurrentDirectory());
        Options options;
        FleetFile fleet;
        try
        {
            if (root is null) throw new ArgumentException("cannot find the repository (no Verification.sln above this program or the current folder)");
            options = Parse(args);
            fleet = FleetFile.Load(options.File, Path.Combine(root, "fixtures", "profiles"));
            if (options.Cluster is { } name) fleet.Cluster(name);
            // Every leg's profile is built and checked before the first leg starts: a wrong override runs nothing.
            if (options.Merge is null && !options.List)
                foreach (var cluster in fleet.Clusters.Where(c => options.Cluster is null || c.Name == options.Cluster))
                    LegProfile.Yaml(fleet, cluster);
        }
        catch (Exception e) when (e is ArgumentException or FleetFileException)
        {
            await stderr.WriteLineAsync($"{(e.Message.StartsWith("fleet:", StringComparison.Ordinal) ? "" : "fleet: ")}{e.Message}\n{Usage}");
            return BadInput;
        }

        if (options.List)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(fleet.Clusters.Select(c => c.Name)));
            return Green;
        }
        if (options.Merge is { } mergeFolder) return await FleetMerge.RunAsync(fleet, Path.GetFullPath(mergeFolder), root, stdout);

        var outFolder = Path.GetFullPath(options.Out ?? Path.Combine(root, DefaultOut));
        var legs = fleet.Clusters.Where(c => options.Cluster is null || c.Name == options.Cluster).ToList();
        var console = new FleetConsole(stdout);
        var legCommand = Environment.GetEnvironmentVariable(Leg.CommandVariable) is { Length: > 0 } standIn ? Path.GetFullPath(standIn) : Path.Combine(root, "verify");
        IReadOnlyList<string> extra = [];
        if (legCommand == Path.Combine(root, "verify"))
        {
            // Legs at once must not build the same projects into the same folders: the suite is built once, here.
            if (!await BuildSuiteAsync(root, outFolder, console, kill)) return Red;
            extra = ["--no-build"];
        }

        await stdout.WriteLineAsync($"fleet: {legs.Count} leg(s) of {fleet.Path}, at most {fleet.Concurrency} at once; state in {fleet.State}; legs in {outFolder}");
        var results = new LegResult[legs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, legs.Count), new ParallelOptions { MaxDegreeOfParallelism = fleet.Concurrency },
            async (i, _) =>
            {
                // A leg not started yet when the fleet is stopped does not start.
                results[i] = stop.IsCancellationRequested
                    ? new LegResult(legs[i], null, new LegProgress(legs[i].Name), Path.Combine(outFolder, legs[i].Name))
                    : await Leg.RunAsync(fleet, legs[i], outFolder, legCommand, extra, console, stop, kill);
            });

        foreach (var leg in results)
        {
            if (leg.Progress.Summary.Count == 0)
            {
                await stdout.WriteLineAsync($"fleet: [{leg.Cluster.Name}] printed no dotnet test summary (see {Path.Combine(leg.Folder, Leg.LogFile)})");
                continue;
            }
            // Verbatim, as dotnet test printed it: CI counts "Total tests: N" and the indented Passed/Failed/Skipped lines.
            await stdout.WriteLineAsync($"fleet: [{leg.Cluster.Name}] dotnet test's summary:");
            foreach (var line in leg.Progress.Summary) await stdout.WriteLineAsync(line);
        }

        if (options.Cluster is not null) return results[0].ExitCode ?? Red;
        return await FleetMerge.RunAsync(fleet, outFolder, root, stdout);
    }

    private static async Task<bool> BuildSuiteAsync(string root, string outFolder, FleetConsole console, CancellationToken kill)
    {
        Directory.CreateDirectory(outFolder);
        var log = Path.Combine(outFolder, "build.log");
        console.Line($"fleet: building the suite once for every leg (dotnet build tests/Verification; output: {log})");
        await using var writer = new StreamWriter(log);
        var build = await Cli.Wrap("dotnet")
            .WithArguments(["build", "tests/Verification/Verification.csproj", "--tl:off", "-nologo"])
            .WithWorkingDirectory(root)
            .WithStandardOutputPipe(PipeTarget.ToStream(writer.BaseStream))
            .WithStandardErrorPipe(PipeTarget.ToStream(writer.BaseStream))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(kill);
        if (build.ExitCode != 0) console.Line($"fleet: the suite did not build (exit {build.ExitCode}); see {log}. No leg ran.");
        return build.ExitCode == 0;
    }

    private static Options Parse(string[] args)
    {
        if (args[0].StartsWith('-')) throw new ArgumentException($"the fleet file comes first, before '{args[0]}'");
        var options = new Options(args[0], false, null, null, null);
        for (var i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--list" => options with { List = true },
                "--cluster" => options with { Cluster = Value() },
                "--out" => options with { Out = Value() },
                "--merge" => options with { Merge = Value() },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }
        if (options.List && (options.Cluster ?? options.Out ?? options.Merge) is not null) throw new ArgumentException("--list takes no other option");
        if (options.Merge is not null && (options.Cluster ?? options.Out) is not null) throw new ArgumentException("--merge DIR takes no other option");
        if (options.Cluster is not null && options.Out is null) throw new ArgumentException("--cluster NAME needs --out DIR (its results go to DIR/NAME/)");
        return options;
    }
}
