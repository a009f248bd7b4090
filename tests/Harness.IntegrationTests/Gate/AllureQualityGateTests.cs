using System.Text.Json;
using Harness.Reporting;
using Harness.Tests.Gate;
using NUnit.Framework;
using VersionGate;

namespace Harness.IntegrationTests.Gate;

/// <summary>
/// Allure 3's own quality gate, run by the real, pinned CLI on results the test writes: alone, folded into the gate's
/// verdict, and in the rendered report's Quality Gates tab.
/// </summary>
[Category("allure-cli")]
[NonParallelizable] // the standalone result goes through Report's process-wide current test
public class AllureQualityGateTests
{
    private const string Kubelet = GateFolder.Kubelet;
    private const string Rollout = GateFolder.Rollout;

    private GateFolder _gate = null!;

    [SetUp]
    public void CreateFolder() => _gate = new GateFolder();

    [TearDown]
    public void RemoveFolder() => _gate.Dispose();

    [Test, CancelAfter(120_000)]
    public async Task Allure_quality_gate_fails_when_a_check_has_no_result_or_failed_and_passes_when_all_passed(CancellationToken cancellation)
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        var results = Path.Combine(_gate.Directory, "results");
        GateFolder.WriteCheckResult(results, Kubelet, Status.Passed);
        GateFolder.WriteCheckResult(results, Rollout, Status.Failed);
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

    [Test, CancelAfter(120_000)]
    public async Task Without_a_list_Allure_quality_gate_takes_the_expected_checks_from_the_newest_started_run_record(CancellationToken cancellation)
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        var results = Path.Combine(_gate.Directory, "results");
        GateFolder.WriteCheckResult(results, Kubelet, Status.Passed);
        new RunHistory()
            .Add("older", [(Kubelet, "passed", 40)], [Kubelet])
            .Add("newest", [(Kubelet, "passed", 40)], [Kubelet, Rollout], outcome: null) // still running: its record counts
            .WriteTo(_gate.MetricsFile);
        var previous = Environment.GetEnvironmentVariable("VERIFICATION_METRICS");
        Environment.SetEnvironmentVariable("VERIFICATION_METRICS", _gate.MetricsFile);
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

    [Test, CancelAfter(120_000)]
    public async Task The_gate_folds_a_failed_Allure_quality_gate_into_its_red_reasons()
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        // Our own verdict is green (the metrics say both passed) but the results folder beside them lacks Rollout's result.
        new RunHistory().Run("r1", (Kubelet, "passed", 40), (Rollout, "passed", 50)).WriteTo(_gate.MetricsFile);
        GateFolder.WriteCheckResult(Path.Combine(_gate.Directory, "allure-results"), Kubelet, Status.Passed);

        var (exitCode, output) = await _gate.GateAsync();

        Assert.That(exitCode, Is.EqualTo(GateCommand.DoNotBump), output);
        Assert.That(output, Does.Contain("gate: Allure quality gate on ").And.Contain(": failed"));
        Assert.That(output, Does.Contain("  - Allure quality gate: The total number of tests 1 is less than the expected threshold value 2 (checks/minTestsCount)"));
    }

    [Test, CancelAfter(180_000)]
    public async Task The_rendered_report_shows_the_quality_gate_rules_in_its_Quality_Gates_tab(CancellationToken cancellation)
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        var results = Path.Combine(_gate.Directory, "results");
        GateFolder.WriteCheckResult(results, Kubelet, Status.Passed);
        var previous = Environment.GetEnvironmentVariable("VERIFICATION_EXPECTED_CHECKS");
        Environment.SetEnvironmentVariable("VERIFICATION_EXPECTED_CHECKS", $"{Kubelet},{Rollout}");
        try
        {
            var render = await AllureCli.RenderAsync(results, Path.Combine(_gate.Directory, "report"), Path.Combine(_gate.Directory, "history.jsonl"), cancellation);

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

    private static void WriteNonCheckResult(string results, string name, Status status) =>
        Report.WriteStandaloneResult(name, $"Verification:{name}", status, new AllureWriter(results), "RED");
}
