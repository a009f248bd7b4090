using Harness.Reporting;
using NUnit.Framework;
using GateOf = Harness.Reporting.Gate;

namespace Harness.Tests.Gate;

public class GateTests
{
    private const string Kubelet = "PodHangsInTerminatingUntilKubeletIsBack";
    private const string Rollout = "RolloutUndoRecoversFromABadImageTag";

    private static GateVerdict Evaluate(RunHistory history, string? runId = null, params string[] unreverted) =>
        GateOf.Evaluate(history.History, "lab", new GateRules(Factor: 2, MinimumSlowdownSeconds: 5, BaselineRuns: 3), unreverted, runId);

    [Test]
    public void All_passed_and_no_recovery_slower_is_green_against_the_last_green_run()
    {
        var history = new RunHistory()
            .Run("r1", (Kubelet, "passed", 40), (Rollout, "passed", 1))
            .Run("r2", (Kubelet, "passed", 42), (Rollout, "passed", 1.5));

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.True, string.Join("; ", verdict.Reasons));
        Assert.That(verdict.RunId, Is.EqualTo("r2"));
        Assert.That(verdict.BaselineRunIds, Is.EqualTo(new[] { "r1" }));
        var kubelet = verdict.Rows.Single(r => r.Check == Kubelet).Figures.Single();
        Assert.That((kubelet.Phase, kubelet.Now, kubelet.Baseline, kubelet.Slower), Is.EqualTo(("recovery", 42.0, (double?)40.0, false)));
    }

    [Test]
    public void The_baseline_is_made_of_the_fully_green_runs_before_the_one_judged()
    {
        var history = new RunHistory()
            .Run("green-1", (Kubelet, "passed", 40))
            .Run("red", (Kubelet, "failed", 10))
            .Run("judged", (Kubelet, "passed", 41))
            .Run("green-later", (Kubelet, "passed", 39));

        var verdict = Evaluate(history, runId: "judged");

        Assert.That(verdict.BaselineRunIds, Is.EqualTo(new[] { "green-1" }), "the red run is no baseline, the later green one comes after");
        Assert.That(Evaluate(history).BaselineRunIds, Is.EqualTo(new[] { "green-1", "judged" }), "without a run id the newest run is judged");
    }

    [Test]
    public void Recoveries_are_compared_only_with_runs_on_the_same_container_runtime()
    {
        (string, string, double?)[] Kube(double seconds) => [(Kubelet, "passed", seconds)];
        var history = new RunHistory()
            .Add("containerd-1", Kube(25), [Kubelet], runtimes: "containerd://1.6.20")
            .Add("containerd-2", Kube(26), [Kubelet], runtimes: "containerd://1.6.20, containerd://1.6.20")
            .Add("docker-1", Kube(90), [Kubelet], runtimes: "docker://20.10.24")
            .Add("docker-2", Kube(95), [Kubelet], runtimes: "docker://24.0.7");

        Assert.That(Evaluate(history, runId: "docker-1").BaselineRunIds, Is.Empty, "no earlier run on docker: nothing to be slower than");
        Assert.That(Evaluate(history, runId: "docker-1").MayBump, Is.True, "90 s under docker is no slowdown of 25 s under containerd");
        Assert.That(Evaluate(history, runId: "docker-2").BaselineRunIds, Is.EqualTo(new[] { "docker-1" }), "a new docker version is compared with the old one");
        Assert.That(Evaluate(history, runId: "containerd-2").BaselineRunIds, Is.EqualTo(new[] { "containerd-1" }));
        var slower = new RunHistory()
            .Add("docker-1", Kube(20), [Kubelet], runtimes: "docker://20.10.24")
            .Add("containerd-1", Kube(25), [Kubelet], runtimes: "containerd://1.6.20")
            .Add("docker-2", Kube(95), [Kubelet], runtimes: "docker://20.10.24");
        Assert.That(Evaluate(slower, runId: "docker-2").Reasons, Has.Some.Contains($"{Kubelet} recovery 95.0 s is more than 2× the baseline 20.0 s"),
            "the same runtime still turns a slowdown red");
    }

    [Test]
    public void Recoveries_are_compared_only_with_earlier_runs_of_the_same_cluster_and_runs_without_a_uid_by_profile()
    {
        (string, string, double?)[] Kube(double seconds) => [(Kubelet, "passed", seconds)];
        var history = new RunHistory()
            .Add("older-harness", Kube(20), [Kubelet])                      // no UID: matched by its profile, as before
            .Add("book-1", Kube(21), [Kubelet], clusterUid: "uid-book")
            .Add("revised-1", Kube(90), [Kubelet], clusterUid: "uid-revised")
            .Add("book-2", Kube(95), [Kubelet], clusterUid: "uid-book")
            .Add("revised-2", Kube(92), [Kubelet], clusterUid: "uid-revised");

        Assert.That(Evaluate(history, runId: "revised-2").BaselineRunIds, Is.EqualTo(new[] { "older-harness", "revised-1" }),
            "the other cluster of the same profile is no baseline; the run without a UID is");
        Assert.That(Evaluate(history, runId: "book-2").BaselineRunIds, Is.EqualTo(new[] { "older-harness", "book-1" }));
        Assert.That(Evaluate(history, runId: "book-2").Reasons, Has.Some.Contains($"{Kubelet} recovery 95.0 s is more than 2× the baseline"),
            "95 s is slow for the book's cluster, whatever the revised one takes");
        Assert.That(Evaluate(history, runId: "revised-2").Reasons, Is.Empty, "92 s is as fast as the revised cluster was");
        Assert.That(Evaluate(history, runId: "revised-1").BaselineRunIds, Is.EqualTo(new[] { "older-harness" }),
            "a cluster's first run has only the runs without a UID before it");
    }

    [Test]
    public void A_run_without_a_uid_is_compared_with_every_run_of_its_profile()
    {
        (string, string, double?)[] Kube(double seconds) => [(Kubelet, "passed", seconds)];
        var history = new RunHistory()
            .Add("book-1", Kube(21), [Kubelet], clusterUid: "uid-book")
            .Add("revised-1", Kube(22), [Kubelet], clusterUid: "uid-revised")
            .Add("stopped-before-the-api", Kube(23), [Kubelet]);

        Assert.That(Evaluate(history, runId: "stopped-before-the-api").BaselineRunIds, Is.EqualTo(new[] { "book-1", "revised-1" }));
    }

    [Test]
    public void A_failed_check_is_red_with_its_name()
    {
        var history = new RunHistory()
            .Run("r1", (Kubelet, "passed", 40), (Rollout, "passed", 1))
            .Run("r2", (Kubelet, "passed", 40), (Rollout, "failed", null));

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.False);
        Assert.That(verdict.Reasons, Is.EqualTo(new[] { $"{Rollout} failed" }));
    }

    [Test]
    public void An_unreverted_fault_is_red_even_when_every_check_passed()
    {
        var history = new RunHistory().Run("r1", (Kubelet, "passed", 40));

        var verdict = Evaluate(history, null, "kubelet stopped on w1-k8s (on w1-k8s: systemctl start kubelet)");

        Assert.That(verdict.MayBump, Is.False);
        Assert.That(verdict.Reasons, Is.EqualTo(new[] { "unreverted fault: kubelet stopped on w1-k8s (on w1-k8s: systemctl start kubelet)" }));
    }

    [TestCase(40, 81, false, TestName = "A recovery more than factor times slower and 5 s slower is red")]
    [TestCase(40, 79, true, TestName = "A recovery under factor times the baseline is green")]
    [TestCase(0.2, 0.5, true, TestName = "A 0.2 s to 0.5 s wobble is green although it is more than factor times")]
    [TestCase(3, 8.5, false, TestName = "A 3 s to 8.5 s slowdown is red: factor and minimum both exceeded")]
    public void Recovery_against_the_baseline(double baseline, double now, bool mayBump)
    {
        var history = new RunHistory().Run("r1", (Kubelet, "passed", baseline)).Run("r2", (Kubelet, "passed", now));

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.EqualTo(mayBump), string.Join("; ", verdict.Reasons));
        Assert.That(verdict.Rows.Single().Figures.Single().Slower, Is.EqualTo(!mayBump));
        if (!mayBump)
            Assert.That(verdict.Reasons.Single(), Does.StartWith($"{Kubelet} recovery {now:0.0} s is more than 2× the baseline {baseline:0.0} s"));
    }

    [Test, SetCulture("de-DE")]
    public void Reasons_use_a_decimal_point_whatever_the_machine_culture()
    {
        var history = new RunHistory().Run("r1", (Kubelet, "passed", 3)).Run("r2", (Kubelet, "passed", 8.5));

        Assert.That(Evaluate(history).Reasons.Single(), Does.Contain("recovery 8.5 s is more than 2× the baseline 3.0 s"));
    }

    [Test]
    public void Runs_of_other_profiles_are_neither_judged_nor_a_baseline()
    {
        var history = new RunHistory()
            .RunOf("book", "book-green", (Kubelet, "passed", 10))
            .Run("lab-1", (Kubelet, "passed", 40))
            .RunOf("book", "book-newest", (Kubelet, "failed", null));

        var verdict = Evaluate(history);

        Assert.That(verdict.RunId, Is.EqualTo("lab-1"));
        Assert.That(verdict.BaselineRunIds, Is.Empty);
        Assert.That(verdict.MayBump, Is.True);
    }

    [Test]
    public void No_run_of_the_profile_is_red_and_says_to_run_verify()
    {
        var history = new RunHistory().RunOf("book", "b1", (Kubelet, "passed", 10));

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.False);
        Assert.That(verdict.Reasons.Single(), Does.Contain("no run of profile 'lab'").And.Contain("run ./verify first"));
    }

    [Test]
    public void Format_prints_one_aligned_row_per_check_and_the_reasons()
    {
        var history = new RunHistory()
            .Run("r1", (Kubelet, "passed", 40), (Rollout, "passed", 1))
            .Run("r2", (Kubelet, "passed", 90.25), (Rollout, "failed", null));

        var lines = GateOf.Format(Evaluate(history)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.That(lines[0], Is.EqualTo("run r2 vs baseline r1"));
        Assert.That(lines[1], Is.EqualTo("kubernetes v1.20.2 (kubelet v1.20.2)"), "a version that did not change prints once");
        Assert.That(lines[2], Does.StartWith("check ").And.EndWith("note"));
        Assert.That(lines[3], Does.Match($@"^{Kubelet} +passed +90\.3 s +40\.0 s  SLOWER$"));
        Assert.That(lines[4], Does.Match($@"^{Rollout} +failed +- +-$"), "it failed before recovering: no figure now");
        Assert.That(new[] { lines[2].IndexOf("status"), lines[3].IndexOf("passed"), lines[4].IndexOf("failed") }, Is.All.EqualTo(Kubelet.Length + 1),
            "the status column starts after the longest check name");
        Assert.That(lines[5], Is.EqualTo("verdict: RED — do not bump:"));
        Assert.That(lines[6..], Is.EqualTo(new[]
        {
            $"  - {Kubelet} recovery 90.3 s is more than 2× the baseline 40.0 s",
            $"  - {Rollout} failed",
        }));
    }
}
