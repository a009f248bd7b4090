using Harness.Faults;
using Harness.Reporting;
using NUnit.Framework;
using VersionGate;

namespace Harness.Tests.Gate;

/// <summary>The gate command end to end, in-process, over a metrics file and a ledger in a temp folder.</summary>
public class GateCommandTests
{
    private const string Kubelet = "PodHangsInTerminatingUntilKubeletIsBack";
    private static readonly string Repository = AllureResults.RepositoryRoot()!;

    private string _folder = null!;
    private string Metrics => Path.Combine(_folder, "metrics.jsonl");
    private string Ledger => Path.Combine(_folder, "fault-ledger.jsonl");

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "gate-test-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private async Task<(int ExitCode, string Out, string Error)> Gate(string? root, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await GateCommand.RunAsync(["--metrics", Metrics, "--ledger", Ledger, .. args], stdout, stderr, root ?? Repository);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public async Task A_green_run_as_fast_as_its_baseline_exits_0()
    {
        new RunHistory().Run("r1", (Kubelet, "passed", 40)).Run("r2", (Kubelet, "passed", 44)).WriteTo(Metrics);

        var (exitCode, output, _) = await Gate(null);

        Assert.That(exitCode, Is.EqualTo(GateCommand.MayBump));
        Assert.That(output, Does.Contain("run r2 vs baseline r1"));
        Assert.That(output, Does.Match($@"{Kubelet} +passed +44\.0 s +40\.0 s"));
        Assert.That(output, Does.Contain("verdict: GREEN"));
    }

    [Test]
    public async Task A_recovery_slower_than_the_factor_exits_1_with_the_table()
    {
        new RunHistory().Run("r1", (Kubelet, "passed", 40)).Run("r2", (Kubelet, "passed", 100)).WriteTo(Metrics);

        var (exitCode, output, _) = await Gate(null, "--factor", "2");
        var (relaxed, _, _) = await Gate(null, "--factor", "3");

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump));
        Assert.That(output, Does.Match($@"{Kubelet} +passed +100\.0 s +40\.0 s  SLOWER"));
        Assert.That(output, Does.Contain("verdict: RED"));
        Assert.That(relaxed, Is.EqualTo(GateCommand.MayBump), "100 s is under 3 × 40 s");
    }

    [Test]
    public async Task A_failed_check_exits_1()
    {
        new RunHistory().Run("r1", (Kubelet, "passed", 40)).Run("r2", (Kubelet, "failed", null)).WriteTo(Metrics);

        var (exitCode, output, _) = await Gate(null);

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump));
        Assert.That(output, Does.Contain($"  - {Kubelet} failed"));
    }

    [Test]
    public async Task A_fault_left_open_in_the_ledger_exits_1_and_says_what_and_where()
    {
        new RunHistory().Run("r1", (Kubelet, "passed", 40)).WriteTo(Metrics);
        new FaultLedger(Ledger).Open(new LedgerEntry("id-1", "r1", Kubelet, "kubelet stopped", "w1-k8s", "systemctl stop kubelet",
            Revert.OnNode("w1-k8s", "systemctl start kubelet"), DateTimeOffset.UtcNow, "host", 1));

        var (exitCode, output, _) = await Gate(null);

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump));
        Assert.That(output, Does.Contain("  - unreverted fault: kubelet stopped on w1-k8s (on w1-k8s: systemctl start kubelet)"));
    }

    [TestCase("--factr", "3", "unknown option '--factr'")]
    [TestCase("--factor", "two", "--factor 'two' is not a number of at least 1")]
    [TestCase("--factor", "0.5", "--factor '0.5' is not a number of at least 1")]
    [TestCase("--profile", "labb", "Unknown profile 'labb'")]
    [TestCase("--min-slowdown", null, "--min-slowdown needs a value")]
    public async Task Bad_input_exits_2_with_one_clear_line(string option, string? value, string message)
    {
        new RunHistory().Run("r1", (Kubelet, "passed", 40)).WriteTo(Metrics);

        var (exitCode, output, error) = await Gate(null, value is null ? [option] : [option, value]);

        Assert.That(exitCode, Is.EqualTo(GateCommand.BadInput));
        Assert.That(error.Split('\n')[0], Does.StartWith("gate: " + message));
        Assert.That(error, Does.Contain("usage: ./verify gate"));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public async Task A_missing_metrics_file_exits_2_and_says_to_run_verify()
    {
        var (exitCode, _, error) = await Gate(null);

        Assert.That(exitCode, Is.EqualTo(GateCommand.BadInput));
        Assert.That(error.TrimEnd(), Is.EqualTo($"gate: no metrics file at {Metrics}: run ./verify first, pass --metrics <file>, or use --run."));
    }

    [Test]
    public async Task With_run_it_runs_verify_and_judges_the_run_verify_recorded()
    {
        new RunHistory().Run("r1", (Kubelet, "passed", 40)).WriteTo(Metrics);
        var failedRun = new RunHistory().Run("r0").Run("r2", (Kubelet, "failed", null));
        var root = RepositoryWithVerify(failedRun, exitCode: 1);

        var (exitCode, output, _) = await Gate(root, "--run", "--", "--filter", "Category=kubelet");

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump));
        Assert.That(output, Does.Contain("verify called with: --profile lab --filter Category=kubelet"));
        Assert.That(output, Does.Contain("run r2 vs baseline r1"));
        Assert.That(output, Does.Contain($"  - {Kubelet} failed").And.Contain("  - ./verify exited with code 1"));
    }

    [Test]
    public async Task With_run_a_verify_that_recorded_nothing_is_not_judged_by_an_older_run()
    {
        new RunHistory().Run("r1", (Kubelet, "passed", 40)).WriteTo(Metrics);
        var root = RepositoryWithVerify(new RunHistory(), exitCode: 1); // e.g. an older ./verify that recorded nothing

        var (exitCode, output, error) = await Gate(root, "--run");

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump));
        Assert.That(error, Does.Contain("./verify (exit code 1) recorded no run in"));
        Assert.That(output, Does.Not.Contain("verdict"));
    }

    /// <summary>A stand-in repository: the lab profile, and a ./verify that echoes its arguments and appends <paramref name="run"/> to the metrics.</summary>
    private string RepositoryWithVerify(RunHistory run, int exitCode)
    {
        var root = Path.Combine(_folder, "repo");
        Directory.CreateDirectory(Path.Combine(root, "fixtures", "profiles"));
        File.Copy(Path.Combine(Repository, "fixtures", "profiles", "lab.yaml"), Path.Combine(root, "fixtures", "profiles", "lab.yaml"));
        var lines = run.Lines().Select(line => line + "\n");
        var verify = Path.Combine(root, "verify");
        File.WriteAllText(verify, $"#!/usr/bin/env bash\necho \"verify called with: $*\"\nprintf '%s' '{string.Concat(lines)}' >> '{Metrics}'\nexit {exitCode}\n");
        if (!OperatingSystem.IsWindows()) // ./verify is a bash script: the gate's --run is for Linux and macOS
            File.SetUnixFileMode(verify, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return root;
    }
}
