using System.Diagnostics;
using CliWrap;

namespace VersionGate.Fleet;

/// <summary>How a leg ended: its exit code (null when it was killed) and what its output said.</summary>
public sealed record LegResult(FleetCluster Cluster, int? ExitCode, LegProgress Progress, string Folder);

/// <summary>
/// One leg: today's ./verify run for one cluster of the fleet, with the cluster's own profile file, environment and
/// filter, its results under <c>DIR/&lt;name&gt;/</c> and its run records in the cluster's state folder, so two legs at once
/// share no file. Its whole output goes to <c>DIR/&lt;name&gt;/leg.log</c>; the console gets one line whenever its counts change.
/// </summary>
public static class Leg
{
    public const string ResultsFolder = "allure-results", MetricsFile = "metrics.jsonl", LogFile = "leg.log";

    /// <summary>Written into the leg's folder when its <see cref="FleetCluster.Before"/> command failed: the merge's reason.</summary>
    public const string BeforeFailedFile = "before-failed.txt";

    /// <summary>The environment variable naming a program that plays ./verify for every leg (the fleet's tests use a
    /// stand-in that writes a few results and a run record). Unset: the repository's ./verify.</summary>
    public const string CommandVariable = "VERIFICATION_FLEET_LEG";

    /// <summary>
    /// Runs the leg. <paramref name="stop"/>: the fleet was asked to stop (Ctrl-C, SIGTERM): the leg's process group gets
    /// SIGINT, as a terminal's Ctrl-C would give a single ./verify, so its checks revert their faults and it ends by
    /// itself. <paramref name="kill"/>: asked again; the leg's process tree is killed.
    /// </summary>
    public static async Task<LegResult> RunAsync(FleetFile fleet, FleetCluster cluster, string outFolder, string legCommand,
        IReadOnlyList<string> extraArguments, FleetConsole console, CancellationToken stop, CancellationToken kill)
    {
        var folder = Path.Combine(outFolder, cluster.Name);
        var results = Path.Combine(folder, ResultsFolder);
        // A leg's results are its own run's only, as ./verify's are: an earlier merge's leftovers would be judged again.
        if (Directory.Exists(results)) Directory.Delete(results, recursive: true);
        var profile = LegProfile.Write(fleet, cluster, folder);
        var metrics = Path.Combine(fleet.StateOf(cluster.Name), MetricsFile);
        Directory.CreateDirectory(fleet.StateOf(cluster.Name));

        string[] arguments =
        [
            legCommand, "--profile", profile, "--results", results, "--metrics", metrics, "--no-report",
            .. extraArguments, .. cluster.Filter is { } filter ? new[] { "--filter", filter } : [],
        ];
        var progress = new LegProgress(cluster.Name);
        await using var log = new StreamWriter(Path.Combine(folder, LogFile)) { AutoFlush = true };
        var logLock = new Lock();
        void Output(string line)
        {
            bool changed;
            lock (logLock)
            {
                log.WriteLine(line);
                changed = progress.Read(line);
            }
            if (changed) console.Line(progress.Line("running ..."));
        }
        void Log(string line) { lock (logLock) log.WriteLine(line); }
        // The 'before' command and the leg run in the same place with the same environment, their output into leg.log.
        Command InTheLeg(string program, IEnumerable<string> args, Action<string> output) => Cli.Wrap(program).WithArguments(args)
            .WithWorkingDirectory(Path.GetDirectoryName(Path.GetFullPath(legCommand))!)
            .WithEnvironmentVariables(cluster.Environment.ToDictionary(e => e.Key, e => (string?)e.Value))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(output))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(output))
            .WithValidation(CommandResultValidation.None);

        var clock = Stopwatch.StartNew();
        int? exitCode = null;
        File.Delete(Path.Combine(folder, BeforeFailedFile));
        if (cluster.Before is { } before)
        {
            console.Line($"[{cluster.Name}] before: {before}");
            int? beforeExit = null; // null: stopped (Ctrl-C of the fleet) before it ended
            try
            {
                beforeExit = (await InTheLeg("bash", ["-c", before], Log).ExecuteAsync(stop)).ExitCode;
            }
            catch (OperationCanceledException) { }
            if (beforeExit is not 0)
            {
                var why = $"its 'before' command {(beforeExit is { } failed ? $"failed (exit {failed})" : "was stopped")}: {before}; no check ran (see {Path.Combine(folder, LogFile)})";
                await File.WriteAllTextAsync(Path.Combine(folder, BeforeFailedFile), why);
                console.Line($"[{cluster.Name}] {why}");
                return new LegResult(cluster, beforeExit, progress, folder);
            }
            console.Line($"[{cluster.Name}] before: done in {clock.Elapsed.TotalSeconds:0} s");
        }
        console.Line($"[{cluster.Name}] started: {string.Join(' ', arguments.Skip(1).Prepend(Path.GetFileName(legCommand)))} (output: {Path.Combine(folder, LogFile)})");
        // setsid: the leg is a process group of its own, so the fleet can give it Ctrl-C as a whole (below), and a
        // Ctrl-C typed at the fleet's terminal reaches the fleet alone, which passes it on to every leg once.
        // env --default-signal=INT: a fleet started in the background (nohup, `&` in a script) passes SIGINT on as
        // ignored, and then neither bash nor .NET would ever see that Ctrl-C.
        var command = InTheLeg("setsid", ["env", "--default-signal=INT", .. arguments], Output);
        try
        {
            var task = command.ExecuteAsync(kill);
            // setsid execs the leg in place (its caller is no group leader): the leg's PID is its process group's id.
            await using (stop.Register(() => _ = Interrupt(task.ProcessId, cluster.Name, console)))
                exitCode = (await task).ExitCode;
        }
        catch (OperationCanceledException)
        {
            console.Line($"[{cluster.Name}] killed (asked to stop twice); its faults may still be in place: the next run heals them");
        }

        // The cluster's run records travel with its results, so a merge on another machine (CI's last job) can judge it.
        if (File.Exists(metrics)) File.Copy(metrics, Path.Combine(folder, MetricsFile), overwrite: true);
        var how = exitCode is { } code ? $"done (exit {code}, {clock.Elapsed.TotalMinutes:0.0} min)" : "killed";
        console.Line(progress.Line(stop.IsCancellationRequested && exitCode is not null ? $"stopped, {how}" : how));
        return new LegResult(cluster, exitCode, progress, folder);
    }

    private static async Task Interrupt(int processGroup, string cluster, FleetConsole console)
    {
        console.Line($"[{cluster}] stopping: SIGINT to its process group {processGroup}, its checks revert their faults");
        await Cli.Wrap("kill").WithArguments(["-INT", "--", $"-{processGroup}"]).WithValidation(CommandResultValidation.None).ExecuteAsync();
    }
}

/// <summary>The fleet's console: whole lines only, from legs running at once.</summary>
public sealed class FleetConsole(TextWriter writer)
{
    private readonly Lock _write = new();

    public void Line(string text)
    {
        lock (_write) writer.WriteLine(text);
    }
}
