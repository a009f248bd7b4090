using Harness.Reporting;
using NUnit.Framework;
using GateOf = Harness.Reporting.Gate;

namespace Harness.Tests.Gate;

/// <summary>The gate judges a whole run: a partial, stopped, interrupted or killed run is red, whatever its checks said.</summary>
public class WholeRunTests
{
    // The nine checks of the live suite, by their NUnit method names (what the suite puts in its "started" record).
    private static readonly string[] NineChecks =
    [
        "KubectlOnAWorkerNeedsTheAdminKubeconfig", "PodHangsInTerminatingUntilKubeletIsBack", "PodUnreachableWithoutBrNetfilter",
        "KilledContainerIsRestartedByKubelet", "DeploymentReplacesADeletedPod", "ScaleSpreadsPodsOverTheWorkers",
        "CordonedNodeGetsNoNewPods", "DrainMovesPodsAway", "RolloutUndoRecoversFromABadImageTag",
    ];

    private static (string, string, double?)[] AllPassed(double recovery = 10) =>
        [.. NineChecks.Select(c => (c, "passed", (double?)recovery))];

    private static GateVerdict Evaluate(RunHistory history, int baselineRuns = 3) =>
        GateOf.Evaluate(history.History, "lab", new GateRules(2, 5, baselineRuns), []);

    [Test]
    public void A_full_green_run_then_one_check_of_nine_is_red_naming_the_eight_not_run()
    {
        var history = new RunHistory()
            .Add("full", AllPassed(), NineChecks)
            .Add("api-only", [(NineChecks[0], "passed", 3)], NineChecks);

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.False);
        var notRun = NineChecks[1..].Order(StringComparer.Ordinal);
        Assert.That(verdict.Reasons, Is.EqualTo(new[] { $"not run: {string.Join(", ", notRun)}" }), "one line naming all eight, sorted");
        Assert.That(verdict.NotRun, Is.EqualTo(notRun));
        Assert.That(verdict.Rows.Where(r => r.Status == "not run").Select(r => r.Check), Is.EquivalentTo(NineChecks[1..]),
            "the table lists the missing checks too");
    }

    [Test]
    public void A_run_with_every_check_passed_and_completed_is_green()
    {
        var verdict = Evaluate(new RunHistory().Add("full-1", AllPassed(), NineChecks).Add("full-2", AllPassed(11), NineChecks));

        Assert.That(verdict.MayBump, Is.True, string.Join("; ", verdict.Reasons));
        Assert.That(verdict.Rows, Has.Count.EqualTo(9));
    }

    [Test]
    public void A_check_the_profile_has_nothing_for_is_not_applicable_not_red_but_a_skipped_one_is_red()
    {
        const string coreDns = "LookupsFailWhileCoreDnsIsScaledToZero";
        string[] checks = [.. NineChecks, coreDns];
        var notApplicable = Evaluate(new RunHistory()
            .Add("lab", [.. AllPassed(), (coreDns, CheckOutcomes.NotApplicable, null)], checks));
        Assert.That(notApplicable.MayBump, Is.True, string.Join("; ", notApplicable.Reasons));
        Assert.That(notApplicable.Rows.Single(r => r.Check == coreDns).Status, Is.EqualTo("not applicable"), "the table says so");

        var skipped = Evaluate(new RunHistory().Add("lab", [.. AllPassed(), (coreDns, "skipped", null)], checks));
        Assert.That(skipped.MayBump, Is.False);
        Assert.That(skipped.Reasons, Is.EqualTo(new[] { $"{coreDns} skipped" }));
    }

    [Test]
    public void A_stopped_run_is_red_with_its_reason_and_the_checks_it_did_not_run()
    {
        const string reason = "preflight: /etc/kubernetes/manifests/kube-controller-manager.yaml missing on m-k8s";
        var history = new RunHistory()
            .Add("full", AllPassed(), NineChecks)
            .Add("stopped", [], NineChecks, RunOutcomes.Stopped, reason);

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.False);
        Assert.That(verdict.Reasons[0], Is.EqualTo($"stopped: {reason}"));
        Assert.That(verdict.Reasons[1], Does.StartWith("not run: ").And.Contain(string.Join(", ", NineChecks.Order(StringComparer.Ordinal))));
        Assert.That(GateOf.Format(verdict), Does.Contain("  - stopped: " + reason));
    }

    [Test]
    public void An_interrupted_run_is_red_even_when_the_checks_it_ran_passed()
    {
        var history = new RunHistory().Add("ctrl-c", AllPassed(), NineChecks, RunOutcomes.Interrupted, "SIGINT during DrainMovesPodsAway");

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.False);
        Assert.That(verdict.Reasons, Is.EqualTo(new[] { "interrupted (Ctrl-C or SIGTERM): SIGINT during DrainMovesPodsAway" }));
    }

    [Test]
    public void A_run_without_an_end_record_was_killed_and_is_red()
    {
        var history = new RunHistory().Add("killed", AllPassed(), NineChecks, outcome: null);

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.False);
        Assert.That(verdict.Reasons.Single(), Does.StartWith("interrupted: the run has no end record"));
    }

    [Test]
    public void A_run_of_an_older_harness_without_run_records_is_red_and_says_so()
    {
        var history = new RunHistory().Add("old", AllPassed(), expected: null);

        var verdict = Evaluate(history);

        Assert.That(verdict.MayBump, Is.False);
        Assert.That(verdict.Reasons.Single(), Does.Contain("run old has no run record").And.Contain("older harness"));
    }

    [Test]
    public void A_run_with_only_an_end_record_did_not_start()
    {
        var history = new RunHistory().Add("odd", [], expected: NineChecks, RunOutcomes.Stopped, "bad input: unknown profile 'labb'");
        history.Runs.RemoveAll(r => r.Event != RunEvents.Ended);

        var verdict = Evaluate(history);

        Assert.That(verdict.Reasons, Is.EqualTo(new[]
        {
            "run odd has no start record, so the checks a full run has are unknown",
            "stopped: bad input: unknown profile 'labb'",
            "run odd recorded no check",
        }));
    }

    [Test]
    public void The_baseline_is_the_median_of_the_last_three_green_runs_so_one_outlier_does_not_move_it()
    {
        const string kubelet = "PodHangsInTerminatingUntilKubeletIsBack";
        var history = new RunHistory()
            .Add("green-old", [(kubelet, "passed", 900)], [kubelet])   // older than the last three: not in the baseline
            .Add("green-1", [(kubelet, "passed", 40)], [kubelet])
            .Add("green-2", [(kubelet, "passed", 42)], [kubelet])
            .Add("partial-green", [], [kubelet])                        // completed but ran nothing: not fully green
            .Add("stopped", [], [kubelet], RunOutcomes.Stopped, "busy lease")
            .Add("green-outlier", [(kubelet, "passed", 400)], [kubelet])
            .Add("judged", [(kubelet, "passed", 100)], [kubelet]);

        var verdict = Evaluate(history);
        var lastOnly = Evaluate(history, baselineRuns: 1);

        Assert.That(verdict.BaselineRunIds, Is.EqualTo(new[] { "green-1", "green-2", "green-outlier" }));
        var recovery = verdict.Rows.Single().Figures.Single();
        Assert.That((recovery.Now, recovery.Baseline, recovery.Slower), Is.EqualTo((100.0, (double?)42.0, true)), "median of 40, 42, 400");
        Assert.That(verdict.Reasons.Single(), Is.EqualTo($"{kubelet} recovery 100.0 s is more than 2× the baseline 42.0 s"));
        Assert.That(GateOf.Format(verdict).Split('\n')[0], Is.EqualTo("run judged vs baseline median of green-1, green-2, green-outlier"));
        Assert.That(lastOnly.BaselineRunIds, Is.EqualTo(new[] { "green-outlier" }));
        Assert.That(lastOnly.MayBump, Is.True, "against the outlier alone 100 s looks fast: why the median of several runs");
    }

    [TestCase(new[] { 1.0, 9.0, 3.0 }, 3.0)]
    [TestCase(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    [TestCase(new[] { 7.0 }, 7.0)]
    public void Median(double[] values, double median) => Assert.That(GateOf.Median(values), Is.EqualTo(median));

    [Test]
    public void The_versions_of_the_run_and_of_the_baseline_are_printed_as_a_bump()
    {
        const string kubelet = "PodHangsInTerminatingUntilKubeletIsBack";
        var history = new RunHistory()
            .Add("old-1", [(kubelet, "passed", 40)], [kubelet], server: "v1.18.4", kubelet: "v1.18.4")
            .Add("old-2", [(kubelet, "passed", 41)], [kubelet], server: "v1.18.4", kubelet: "v1.18.4")
            .Add("bumped", [(kubelet, "passed", 42)], [kubelet], server: "v1.19.16", kubelet: "v1.19.16");

        var verdict = Evaluate(history);

        Assert.That(verdict.Versions, Is.EqualTo(new KubernetesVersions("v1.19.16", "v1.19.16")));
        Assert.That(verdict.BaselineVersions, Is.EqualTo(new KubernetesVersions("v1.18.4", "v1.18.4")));
        Assert.That(GateOf.Format(verdict).Split('\n')[1], Is.EqualTo("kubernetes v1.18.4 → v1.19.16 (kubelet v1.18.4 → v1.19.16)"));
        Assert.That(GateOf.FormatVersions(new("v1.19.16", "v1.18.4"), new("v1.18.4", "v1.18.4")),
            Is.EqualTo("kubernetes v1.18.4 → v1.19.16 (kubelet v1.18.4)"), "the control plane first: kubelets not yet bumped print once");
        Assert.That(GateOf.FormatVersions(new("v1.20.2", null), null), Is.EqualTo("kubernetes v1.20.2 (kubelet unknown)"));
    }
}
