using System.Buffers.Binary;
using System.Text.Json;
using Harness.Reporting;
using NUnit.Framework;
using VersionGate;
using GateOf = Harness.Reporting.Gate;

namespace Harness.Tests.Gate;

/// <summary>
/// What the gate puts into the morning report: the recovery chart (ScottPlot PNG) and the standalone result
/// "Version-bump gate". Allure 3's own quality gate, run by the real CLI: tests/Harness.IntegrationTests.
/// </summary>
[NonParallelizable] // the standalone result goes through Report's process-wide current test
public class GateReportTests
{
    private const string Kubelet = GateFolder.Kubelet;
    private const string Rollout = GateFolder.Rollout;
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private GateFolder _gate = null!;

    [SetUp]
    public void CreateFolder() => _gate = new GateFolder();

    [TearDown]
    public void RemoveFolder() => _gate.Dispose();

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

        File.WriteAllBytes(Path.Combine(_gate.Directory, "chart.png"), chart);
        TestContext.AddTestAttachment(Path.Combine(_gate.Directory, "chart.png"), "recovery chart");
        Assert.That(chart.Take(8), Is.EqualTo(PngSignature));
        Assert.That(PngSize(chart), Is.EqualTo((1200, 800)));
        Assert.That(chart.Length, Is.GreaterThan(20_000), "a chart with axes, two lines, a legend and labels");
        Assert.That(chart.Length, Is.GreaterThan(empty.Length + 5_000), "the lines and legend add to an empty chart");
    }

    [Test]
    public async Task A_red_verdict_becomes_a_failed_result_with_the_reasons_the_table_and_the_chart()
    {
        var history = TwelveRuns().Add("partial", [(Kubelet, "passed", 41)], [Kubelet, Rollout]);
        history.WriteTo(_gate.MetricsFile);
        var results = Path.Combine(_gate.Directory, "results");

        var (exitCode, output) = await _gate.GateAsync("--allure-results", results, "--chart", Path.Combine(_gate.Directory, "chart.png"));

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
        Assert.That(png, Is.EqualTo(File.ReadAllBytes(Path.Combine(_gate.Directory, "chart.png"))), "--chart writes the same picture");
    }

    [Test]
    public async Task A_green_verdict_becomes_a_passed_result_naming_the_versions()
    {
        TwelveRuns().WriteTo(_gate.MetricsFile);
        var results = Path.Combine(_gate.Directory, "results");

        var (exitCode, output) = await _gate.GateAsync("--allure-results", results);

        Assert.That(exitCode, Is.EqualTo(GateCommand.MayBump), output);
        var result = SingleResult(results);
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("passed"));
        Assert.That(result.GetProperty("statusDetails").GetProperty("message").GetString(),
            Is.EqualTo("GREEN: the version may be bumped (kubernetes v1.20.2/v1.21.14 → v1.21.14 (kubelet v1.20.2))"),
            "r12 against r9 (v1.20.2), r10 and r11 (v1.21.14): a baseline over a bump names both");
    }

    private static JsonElement SingleResult(string results) =>
        JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(results, "*-result.json").Single())).RootElement;
}
