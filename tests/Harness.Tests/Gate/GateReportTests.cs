using System.Buffers.Binary;
using System.Text.Json;
using Harness.Reporting;
using NUnit.Framework;
using VersionGate;
using GateOf = Harness.Reporting.Gate;

namespace Harness.Tests.Gate;

/// <summary>
/// What the gate puts into the morning report: the recovery chart (ScottPlot PNG), the standalone result
/// "Version-bump gate", and Allure 3's own quality gate run by the real, pinned CLI on results the test writes.
/// </summary>
[NonParallelizable] // the standalone result goes through Report's process-wide current test
public class GateReportTests
{
    private const string Kubelet = "PodHangsInTerminatingUntilKubeletIsBack";
    private const string Rollout = "RolloutUndoRecoversFromABadImageTag";
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private string _folder = null!;
    private string MetricsFile => Path.Combine(_folder, "metrics.jsonl");
    private string Ledger => Path.Combine(_folder, "fault-ledger.jsonl");

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "gate-report-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private static RunHistory TwelveRuns()
    {
        var history = new RunHistory();
        for (var i = 1; i <= 12; i++)
            history.Add($"r{i}", [(Kubelet, "passed", 40 + i % 3), (Rollout, "passed", i > 9 ? 120 : 55)], [Kubelet, Rollout],
                server: i > 9 ? "v1.21.14" : "v1.20.2");
        return history;
    }

    private static (int Width, int Height) PngSize(byte[] png) =>
        (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));

    [Test]
    public void The_recovery_chart_is_a_png_of_the_requested_size_with_the_lines_drawn()
    {
        var runs = GateOf.Runs(TwelveRuns().History, "lab");

        var chart = RecoveryChart.Png(runs, "lab", lastRuns: 10);
        var empty = RecoveryChart.Png([], "lab");

        File.WriteAllBytes(Path.Combine(_folder, "chart.png"), chart);
        TestContext.AddTestAttachment(Path.Combine(_folder, "chart.png"), "recovery chart");
        Assert.That(chart.Take(8), Is.EqualTo(PngSignature));
        Assert.That(PngSize(chart), Is.EqualTo((1200, 800)));
        Assert.That(chart.Length, Is.GreaterThan(20_000), "a chart with axes, two lines, a legend and labels");
        Assert.That(chart.Length, Is.GreaterThan(empty.Length + 5_000), "the lines and legend add to an empty chart");
    }

    [Test]
    public async Task A_red_verdict_becomes_a_failed_result_with_the_reasons_the_table_and_the_chart()
    {
        var history = TwelveRuns().Add("partial", [(Kubelet, "passed", 41)], [Kubelet, Rollout]);
        history.WriteTo(MetricsFile);
        var results = Path.Combine(_folder, "results");

        var (exitCode, output) = await Gate("--allure-results", results, "--chart", Path.Combine(_folder, "chart.png"));

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump));
        Assert.That(output, Does.Contain("gate: wrote the result 'Version-bump gate'"));
        var result = SingleResult(results);
        Assert.That(result.GetProperty("name").GetString(), Is.EqualTo("Version-bump gate"));
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("failed"));
        Assert.That(result.GetProperty("statusDetails").GetProperty("message").GetString(), Is.EqualTo($"RED: do not bump:\nnot run: {Rollout}"));
        var attachments = result.GetProperty("attachments").EnumerateArray().ToDictionary(a => a.GetProperty("type").GetString()!);
        var table = File.ReadAllText(Path.Combine(results, attachments["text/plain"].GetProperty("source").GetString()!));
        Assert.That(table, Does.Contain("run partial vs baseline median of r10, r11, r12").And.Contain($"  - not run: {Rollout}"));
        var png = File.ReadAllBytes(Path.Combine(results, attachments["image/png"].GetProperty("source").GetString()!));
        Assert.That(png.Take(8), Is.EqualTo(PngSignature));
        Assert.That(png, Is.EqualTo(File.ReadAllBytes(Path.Combine(_folder, "chart.png"))), "--chart writes the same picture");
    }

    [Test]
    public async Task A_green_verdict_becomes_a_passed_result_naming_the_versions()
    {
        TwelveRuns().WriteTo(MetricsFile);
        var results = Path.Combine(_folder, "results");

        var (exitCode, output) = await Gate("--allure-results", results);

        Assert.That(exitCode, Is.EqualTo(GateCommand.MayBump), output);
        var result = SingleResult(results);
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("passed"));
        Assert.That(result.GetProperty("statusDetails").GetProperty("message").GetString(),
            Is.EqualTo("GREEN: the version may be bumped (kubernetes v1.20.2/v1.21.14 → v1.21.14 (kubelet v1.20.2))"),
            "r12 against r9 (v1.20.2), r10 and r11 (v1.21.14): a baseline over a bump names both");
    }

    [Test, Category("allure-cli"), CancelAfter(120_000)]
    public async Task Allure_quality_gate_fails_when_a_check_has_no_result_or_failed_and_passes_when_all_passed(CancellationToken cancellation)
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        var results = Path.Combine(_folder, "results");
        WriteCheckResult(results, Kubelet, Status.Passed);
        WriteCheckResult(results, Rollout, Status.Failed);
        WriteNonCheckResult(results, "Version-bump gate", Status.Failed); // the gate's own result must not count

        var partial = await AllureCli.QualityGateAsync(results, [Kubelet, Rollout, "DrainMovesPodsAway"], cancellationToken: cancellation);
        var onlyPassed = await AllureCli.QualityGateAsync(results, [Kubelet], cancellationToken: cancellation);

        Assert.That(partial.Evaluated, Is.True, partial.Error);
        Assert.That(partial.Passed, Is.False);
        Assert.That(partial.Failures, Is.EquivalentTo(new[]
        {
            "The number of failed tests 1 exceeds the allowed threshold value 0 (checks/maxFailures)",
            "The total number of tests 2 is less than the expected threshold value 3 (checks/minTestsCount)",
        }));
        Assert.That((onlyPassed.Evaluated, onlyPassed.Passed), Is.EqualTo((true, true)), onlyPassed.Error);
    }

    [Test, Category("allure-cli"), CancelAfter(120_000)]
    public async Task Without_a_list_Allure_quality_gate_takes_the_expected_checks_from_the_newest_started_run_record(CancellationToken cancellation)
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        var results = Path.Combine(_folder, "results");
        WriteCheckResult(results, Kubelet, Status.Passed);
        new RunHistory()
            .Add("older", [(Kubelet, "passed", 40)], [Kubelet])
            .Add("newest", [(Kubelet, "passed", 40)], [Kubelet, Rollout], outcome: null) // still running: its record counts
            .WriteTo(MetricsFile);
        var previous = Environment.GetEnvironmentVariable("VERIFICATION_METRICS");
        Environment.SetEnvironmentVariable("VERIFICATION_METRICS", MetricsFile);
        try
        {
            var gate = await AllureCli.QualityGateAsync(results, expectedChecks: null, cancellation);

            Assert.That(gate.Evaluated, Is.True, gate.Error);
            Assert.That(gate.Failures, Is.EqualTo(new[] { "The total number of tests 1 is less than the expected threshold value 2 (checks/minTestsCount)" }));
        }
        finally
        {
            Environment.SetEnvironmentVariable("VERIFICATION_METRICS", previous);
        }
    }

    [Test, Category("allure-cli"), CancelAfter(120_000)]
    public async Task The_gate_folds_a_failed_Allure_quality_gate_into_its_red_reasons()
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        // Our own verdict is green (the metrics say both passed) but the results folder beside them lacks Rollout's result.
        new RunHistory().Run("r1", (Kubelet, "passed", 40), (Rollout, "passed", 50)).WriteTo(MetricsFile);
        WriteCheckResult(Path.Combine(_folder, "allure-results"), Kubelet, Status.Passed);

        var (exitCode, output) = await Gate();

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump), output);
        Assert.That(output, Does.Contain("gate: Allure quality gate on ").And.Contain(": failed"));
        Assert.That(output, Does.Contain("  - Allure quality gate: The total number of tests 1 is less than the expected threshold value 2 (checks/minTestsCount)"));
    }

    [Test, Category("allure-cli"), CancelAfter(180_000)]
    public async Task The_rendered_report_shows_the_quality_gate_rules_in_its_Quality_Gates_tab(CancellationToken cancellation)
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        var results = Path.Combine(_folder, "results");
        WriteCheckResult(results, Kubelet, Status.Passed);
        var previous = Environment.GetEnvironmentVariable("VERIFICATION_EXPECTED_CHECKS");
        Environment.SetEnvironmentVariable("VERIFICATION_EXPECTED_CHECKS", $"{Kubelet},{Rollout}");
        try
        {
            var render = await AllureCli.RenderAsync(results, Path.Combine(_folder, "report"), Path.Combine(_folder, "history.jsonl"), cancellation);

            Assert.That(render.Rendered, Is.True, $"exit {render.ExitCode}\n{render.Output}\n{render.Error}");
            // The awesome report's Quality Gates tab reads widgets/quality-gate.json: rule results per environment.
            var rules = JsonDocument.Parse(File.ReadAllText(Path.Combine(render.ReportDirectory, "widgets", "quality-gate.json")))
                .RootElement.EnumerateObject().Single().Value.EnumerateArray()
                .ToDictionary(r => r.GetProperty("rule").GetString()!, r => (r.GetProperty("success").GetBoolean(), r.GetProperty("message").GetString()));
            Assert.That(rules["checks/maxFailures"].Item1, Is.True);
            Assert.That(rules["checks/minTestsCount"], Is.EqualTo((false, (string?)"The total number of tests 1 is less than the expected threshold value 2")));
            Assert.That(Directory.GetFiles(Path.Combine(render.ReportDirectory, "data", "test-results")), Has.Length.EqualTo(1), "the check itself is in the report");
        }
        finally
        {
            Environment.SetEnvironmentVariable("VERIFICATION_EXPECTED_CHECKS", previous);
        }
    }

    private async Task<(int ExitCode, string Output)> Gate(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await GateCommand.RunAsync(["--metrics", MetricsFile, "--ledger", Ledger, .. args], stdout, stderr, AllureResults.RepositoryRoot());
        return (exitCode, stdout + stderr.ToString());
    }

    private static JsonElement SingleResult(string results) =>
        JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(results, "*-result.json").Single())).RootElement;

    // A result as the suite's checks have it: the testMethod label is what Allure's quality gate counts.
    private static void WriteCheckResult(string results, string check, Status status)
    {
        Directory.CreateDirectory(results);
        Report.WriteStandaloneResult(check, $"Verification:Checks.{check}()", status, new AllureWriter(results),
            status == Status.Passed ? null : "Expected: Ready", labels: [new Label("testMethod", check)]);
    }

    private static void WriteNonCheckResult(string results, string name, Status status) =>
        Report.WriteStandaloneResult(name, $"Verification:{name}", status, new AllureWriter(results), "RED");
}
