using System.Xml.Linq;
using Harness.Reporting;
using NUnit.Framework;
using GateOf = Harness.Reporting.Gate;

namespace Harness.Tests.Gate;

/// <summary>Run records and per-check metrics share reports/metrics.jsonl; lines of older harnesses stay readable.</summary>
public class RunRecordTests
{
    private string _file = null!;
    private RunMetrics _run = null!;

    [SetUp]
    public void PointMetricsAtATempFile()
    {
        _file = Path.Combine(Path.GetTempPath(), "metrics-" + Guid.NewGuid().ToString("N"), "metrics.jsonl");
        _run = new RunMetrics(_file, "run-1", "lab");
    }

    [TearDown]
    public void Remove()
    {
        if (Directory.Exists(Path.GetDirectoryName(_file))) Directory.Delete(Path.GetDirectoryName(_file)!, recursive: true);
    }

    [TestCase(null, RunModes.SideBySide)]
    [TestCase("side-by-side", RunModes.SideBySide)]
    [TestCase("sequential", RunModes.Sequential)]
    [TestCase("Sequential", null)]
    [TestCase("side by side", null)]
    public void The_run_mode_parameter_names_the_mode_a_run_record_gets(string? value, string? mode) =>
        Assert.That(RunModes.FromParameter(value), Is.EqualTo(mode));

    /// <summary>The mode is the run's own parameter, passed beside NUnit's workers: each place that sets them says the same.</summary>
    [Test]
    public void Runsettings_and_every_sequential_switch_pass_a_mode_the_record_knows()
    {
        var root = AllureResults.RepositoryRoot()!;
        var runsettings = XDocument.Load(Path.Combine(root, "runsettings.xml"));
        var parameter = runsettings.Descendants("Parameter").SingleOrDefault(p => (string?)p.Attribute("name") == RunModes.Parameter);
        Assert.That(RunModes.FromParameter((string?)parameter?.Attribute("value")), Is.EqualTo(RunModes.SideBySide));
        Assert.That(int.Parse(runsettings.Descendants("NumberOfTestWorkers").Single().Value), Is.GreaterThan(1));
        foreach (var caller in new[] { "verify", "bench/suite", "tests/Lab.Tests/LiveRun.cs" })
        {
            var text = File.ReadAllText(Path.Combine(root, caller));
            Assert.That(text, Does.Contain("NUnit.NumberOfTestWorkers=0"), caller);
            Assert.That(text, Does.Match(@"name=\\?""runMode\\?"", value=\\?""sequential\\?"""), caller);
        }
    }

    [Test]
    public void A_run_writes_start_versions_metrics_and_end_that_read_back_as_one_complete_run()
    {
        _run.RunStarted(["CheckA", "CheckB"]);
        _run.RunVersions("v1.20.2", "v1.20.2", clusterUid: "3c5e0d1a-kube-system");
        _run.Record("CheckA", "recovery", TimeSpan.FromSeconds(12.3456));
        _run.RecordOutcome("CheckA", "passed");
        _run.RecordOutcome("CheckB", "passed");
        _run.RunEnded(RunOutcomes.Completed, null);

        var history = Metrics.ReadHistory(_file);

        Assert.That(File.ReadLines(_file).Count(), Is.EqualTo(6));
        Assert.That(history.Runs.Select(r => r.Event), Is.EqualTo(new[] { RunEvents.Started, RunEvents.Versions, RunEvents.Ended }));
        Assert.That(history.Runs[0].ExpectedChecks, Is.EqualTo(new[] { "CheckA", "CheckB" }));
        Assert.That((history.Runs[1].ServerVersion, history.Runs[1].KubeletVersions), Is.EqualTo(("v1.20.2", "v1.20.2")));
        Assert.That(history.Metrics.Select(m => (m.Check, m.Phase, m.Seconds)),
            Is.EqualTo(new[] { ("CheckA", "recovery", 12.346), ("CheckA", "result", 0.0), ("CheckB", "result", 0.0) }));
        Assert.That(history.Metrics[0].KubernetesVersion, Is.EqualTo("v1.20.2"), "RunVersions also labels the metrics that follow");
        Assert.That(Metrics.ReadAll(_file), Has.Count.EqualTo(3), "ReadAll returns the per-check metrics only");
        var run = GateOf.Runs(history, "lab").Single();
        Assert.That(run.FullyGreen, Is.True);
        Assert.That(run.ClusterUid, Is.EqualTo("3c5e0d1a-kube-system"), "the versions record names the cluster");
        Assert.That(File.ReadLines(_file).ElementAt(1), Does.Contain("\"clusterUid\":\"3c5e0d1a-kube-system\""));
        Assert.That(File.ReadLines(_file).First(), Does.Contain("\"record\":\"run\"").And.Contain("\"event\":\"started\""));
        Assert.That(File.ReadLines(_file).ElementAt(2), Does.Contain("\"record\":\"metric\""));
    }

    [Test]
    public void A_stopped_run_records_its_reason()
    {
        _run.RunStarted(["CheckA"]);
        _run.RunEnded(RunOutcomes.Stopped, "cluster unreachable: 192.168.1.10:6443 refused");

        var ended = Metrics.ReadHistory(_file).Runs.Last();

        Assert.That((ended.Event, ended.Outcome, ended.Reason), Is.EqualTo((RunEvents.Ended, "stopped", "cluster unreachable: 192.168.1.10:6443 refused")));
    }

    [Test]
    public void An_unknown_outcome_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => _run.RunEnded("done", null));

        Assert.That(error!.Message, Does.Contain("run outcome 'done' is none of completed, stopped, interrupted"));
        Assert.That(File.Exists(_file), Is.False, "nothing written");
    }

    [Test]
    public void Lines_of_an_older_harness_read_as_metrics_and_a_cut_line_is_skipped()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
        File.WriteAllLines(_file,
        [
            """{"runId":"old","at":"2026-11-20T20:00:00+00:00","profile":"lab","kubernetesVersion":"v1.20.2","check":"CheckA","phase":"recovery","seconds":41.5,"status":""}""",
            """{"runId":"old","at":"2026-11-20T20:00:01+00:00","profile":"lab","kubernetesVersion":"v1.20.2","check":"CheckA","phase":"result","seconds":0,"status":"passed"}""",
            """{"record":"run","runId":"new","at":"2026-11-21T20:00:00+00:00","profile":"lab","event":"start""",
        ]);

        var history = Metrics.ReadHistory(_file);

        Assert.That(history.Metrics.Select(m => (m.RunId, m.Phase, m.Seconds, m.Status)),
            Is.EqualTo(new[] { ("old", "recovery", 41.5, ""), ("old", "result", 0.0, "passed") }));
        Assert.That(history.Runs, Is.Empty);
        Assert.That(GateOf.Runs(history, "lab").Single().FullyGreen, Is.False, "no run record: it cannot show that every check ran");
    }
}
