using Harness.Reporting;
using VersionGate;

namespace Harness.Tests.Gate;

/// <summary>
/// A throw-away folder with the gate's inputs (metrics.jsonl, the fault ledger) and the gate command run over them
/// in-process, as <c>./verify gate</c> runs it from the repository.
/// </summary>
internal sealed class GateFolder : IDisposable
{
    public const string Kubelet = "PodHangsInTerminatingUntilKubeletIsBack";
    public const string Rollout = "RolloutUndoRecoversFromABadImageTag";

    public GateFolder() => System.IO.Directory.CreateDirectory(Directory);

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "gate-report-" + Guid.NewGuid().ToString("N"));
    public string MetricsFile => Path.Combine(Directory, "metrics.jsonl");
    public string Ledger => Path.Combine(Directory, "fault-ledger.jsonl");

    /// <summary>The gate command over this folder's metrics and ledger: its exit code and what it printed.</summary>
    public async Task<(int ExitCode, string Output)> GateAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await GateCommand.RunAsync(["--metrics", MetricsFile, "--ledger", Ledger, .. args], stdout, stderr, AllureResults.RepositoryRoot());
        return (exitCode, stdout + stderr.ToString());
    }

    /// <summary>A result as the suite's checks have it: the testMethod label is what Allure's quality gate counts.</summary>
    public static void WriteCheckResult(string results, string check, Status status)
    {
        System.IO.Directory.CreateDirectory(results);
        Report.WriteStandaloneResult(check, $"Verification:Checks.{check}()", status, new AllureWriter(results),
            status == Status.Passed ? null : "Expected: Ready", labels: [new Label("testMethod", check)]);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
