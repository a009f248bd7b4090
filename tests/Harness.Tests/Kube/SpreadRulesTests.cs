using Harness.Kube;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.Kube;

public class SpreadRulesTests
{
    // ---- which spreading and which scale-down ranking a version runs ------------------------------------------

    [TestCase("v1.18.20", null, ExpectedResult = Spreader.SelectorSpread, TestName = "1.18 spreads with SelectorSpread")]
    [TestCase("v1.18.4", true, ExpectedResult = Spreader.SelectorSpread, TestName = "1.18 has no DefaultPodTopologySpread gate to turn on")]
    [TestCase("v1.19.16", null, ExpectedResult = Spreader.SelectorSpread, TestName = "1.19: DefaultPodTopologySpread alpha, off by default")]
    [TestCase("v1.19.16", true, ExpectedResult = Spreader.DefaultTopologySpread, TestName = "1.19 with the gate turned on spreads by default constraints")]
    [TestCase("v1.20.2", null, ExpectedResult = Spreader.DefaultTopologySpread, TestName = "1.20: the gate is beta, on by default")]
    [TestCase("v1.20.2", true, ExpectedResult = Spreader.DefaultTopologySpread, TestName = "1.20 with the gate on as set")]
    [TestCase("v1.20.2", false, ExpectedResult = Spreader.SelectorSpread, TestName = "1.20 with the gate off (the lab) is back to SelectorSpread")]
    [TestCase("v1.23.17", false, ExpectedResult = Spreader.SelectorSpread, TestName = "1.23 is the last release the gate can be turned off")]
    [TestCase("v1.24.0", false, ExpectedResult = Spreader.DefaultTopologySpread, TestName = "1.24: GA and locked on, a false cannot take")]
    [TestCase("v1.25.16", null, ExpectedResult = Spreader.DefaultTopologySpread, TestName = "1.25: GA")]
    [TestCase("v1.36.1", null, ExpectedResult = Spreader.DefaultTopologySpread, TestName = "1.36: the gate is gone, default spreading always")]
    public Spreader Spreading_by_version_and_gate(string version, bool? gate) => SpreadRules.Of(version, gate, null).Spreader;

    [TestCase("v1.18.20", null, ExpectedResult = ScaleDownRanking.ExactReadyTime, TestName = "1.18 scales down the most recently Ready first")]
    [TestCase("v1.20.2", null, ExpectedResult = ScaleDownRanking.ExactReadyTime, TestName = "1.20 has no LogarithmicScaleDown")]
    [TestCase("v1.21.14", null, ExpectedResult = ScaleDownRanking.ExactReadyTime, TestName = "1.21: LogarithmicScaleDown alpha, off by default")]
    [TestCase("v1.21.14", true, ExpectedResult = ScaleDownRanking.LogarithmicBuckets, TestName = "1.21 with LogarithmicScaleDown turned on")]
    [TestCase("v1.22.0", null, ExpectedResult = ScaleDownRanking.LogarithmicBuckets, TestName = "1.22: LogarithmicScaleDown beta, on by default")]
    [TestCase("v1.30.14", false, ExpectedResult = ScaleDownRanking.ExactReadyTime, TestName = "1.30 with LogarithmicScaleDown turned off")]
    [TestCase("v1.31.0", false, ExpectedResult = ScaleDownRanking.LogarithmicBuckets, TestName = "1.31: LogarithmicScaleDown GA, locked on")]
    [TestCase("v1.36.1", null, ExpectedResult = ScaleDownRanking.LogarithmicBuckets, TestName = "1.36 scales down by log2 buckets")]
    public ScaleDownRanking Scale_down_ranking_by_version_and_gate(string version, bool? gate) => SpreadRules.Of(version, null, gate).Ranking;

    [Test]
    public void The_report_says_which_rule_applied_and_why()
    {
        var lab = SpreadRules.Of("v1.20.2", false, null);
        Assert.That(lab.Spreading, Is.EqualTo("kube-scheduler v1.20.2 with DefaultPodTopologySpread=false: the book's 1.18 spreading (SelectorSpread)"));
        Assert.That(lab.ScaleDown, Is.EqualTo("kube-controller-manager v1.20.2: pods on nodes with more replicas first (counted before the scale-down), then the most recently Ready (LogarithmicScaleDown does not exist before 1.21)"));
        Assert.That(lab.EveryWorkerAfterScaleUp, Is.True);

        var revised = SpreadRules.Of("v1.36.1", null, null);
        Assert.That(revised.Spreading, Is.EqualTo("kube-scheduler v1.36.1 (default topology spread always on; DefaultPodTopologySpread removed in 1.26): hostname maxSkew 3, ScheduleAnyway: a worker may get no pods"));
        Assert.That(revised.EveryWorkerAfterScaleUp, Is.False);
        Assert.That(SpreadRules.Of("v1.20.2", null, null).Spreading, Does.Contain("beta, on by default").And.Contain("a worker may get no pods"));
    }

    [Test]
    public void A_version_that_is_none_is_refused() =>
        Assert.That(() => SpreadRules.Of("latest", null, null), Throws.ArgumentException.With.Message.Contains("'latest'"));

    // ---- the gate on a static pod's command line ----------------------------------------------------------------

    private static readonly string[] LabScheduler =
    [
        "kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
        "--leader-elect=true", "--port=0", "--feature-gates=DefaultPodTopologySpread=false",
    ];

    [TestCase("kube-scheduler|--port=0", ExpectedResult = null, TestName = "kubeadm's scheduler sets no gate")]
    [TestCase("kube-scheduler|--feature-gates=DefaultPodTopologySpread=false", ExpectedResult = false, TestName = "The lab's gate off")]
    [TestCase("kube-scheduler|--feature-gates=Foo=true, DefaultPodTopologySpread=True", ExpectedResult = true, TestName = "A gate in a list, spaced, any case of true")]
    [TestCase("kube-scheduler|--feature-gates|DefaultPodTopologySpread=false", ExpectedResult = false, TestName = "The gate list as the next word")]
    [TestCase("kube-scheduler|--feature-gates=DefaultPodTopologySpread=false|--feature-gates=DefaultPodTopologySpread=true", ExpectedResult = true, TestName = "A later flag overrides an earlier one")]
    [TestCase("kube-scheduler|--feature-gates=DefaultPodTopologySpreadX=false", ExpectedResult = null, TestName = "Another gate with the same prefix is not this one")]
    [TestCase("kube-scheduler|--feature-gates=DefaultPodTopologySpread=maybe", ExpectedResult = null, TestName = "A value that is no bool is not read")]
    public bool? Feature_gate_on_the_command_line(string command) =>
        SpreadRules.FeatureGate(command.Split('|'), SpreadRules.DefaultPodTopologySpread);

    [Test]
    public void The_lab_scheduler_runs_with_the_gate_off_and_no_command_line_is_the_default()
    {
        Assert.That(SpreadRules.FeatureGate(LabScheduler, SpreadRules.DefaultPodTopologySpread), Is.False);
        Assert.That(SpreadRules.FeatureGate(LabScheduler, SpreadRules.LogarithmicScaleDown), Is.Null);
        Assert.That(SpreadRules.FeatureGate(null, SpreadRules.DefaultPodTopologySpread), Is.Null);
    }

    // ---- what the scale-down keeps --------------------------------------------------------------------------------

    private static readonly DateTimeOffset T = new(2026, 12, 5, 17, 0, 0, TimeSpan.Zero);
    private static readonly string[] Workers = ["w1-k8s", "w2-k8s", "w3-k8s"];

    private static RankedPod Ready(string name, string node, double readyAfter, double? createdAfter = null) =>
        new(name, node, "Running", true, T.AddSeconds(readyAfter), 0, T.AddSeconds(createdAfter ?? readyAfter - 5));

    /// <summary>The book's S6: the first apply's three pods one per worker (Ready at T), six more two per worker,
    /// Ready <paramref name="newReadyAfter"/> s later (each a second apart unless <paramref name="sameSecond"/>).</summary>
    private static List<RankedPod> ThreePerWorker(double newReadyAfter, bool sameSecond = false)
    {
        var pods = Workers.Select((w, i) => Ready($"old-{i}", w, 0)).ToList();
        for (var i = 0; i < 6; i++)
            pods.Add(Ready($"new-{i}", Workers[i % 3], newReadyAfter + (sameSecond ? 0 : i)));
        return pods;
    }

    private static Dictionary<string, string> Text(IReadOnlyDictionary<string, KeptRange> kept) =>
        kept.ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    [Test]
    public void Exact_ranking_from_three_per_worker_keeps_the_first_pods_one_per_worker()
    {
        var kept = SpreadRules.KeptPerNode(ThreePerWorker(20), 3, ScaleDownRanking.ExactReadyTime);

        Assert.That(Text(kept), Is.EqualTo(new Dictionary<string, string> { ["w1-k8s"] = "1", ["w2-k8s"] = "1", ["w3-k8s"] = "1" }));
        Assert.That(SpreadRules.OnePerWorkerGuaranteed(kept, Workers), Is.True);
    }

    [Test]
    public void Exact_ranking_from_an_uneven_scale_up_deletes_the_busiest_node_first_and_leaves_no_one_per_worker()
    {
        // 4/3/2: rank 4 goes first (all of w1), then two of w2's three (the most recently Ready), w3 keeps both.
        List<RankedPod> pods =
        [
            Ready("a1", "w1-k8s", 0), Ready("a2", "w1-k8s", 11), Ready("a3", "w1-k8s", 12), Ready("a4", "w1-k8s", 13),
            Ready("b1", "w2-k8s", 1), Ready("b2", "w2-k8s", 14), Ready("b3", "w2-k8s", 15),
            Ready("c1", "w3-k8s", 2), Ready("c2", "w3-k8s", 16),
        ];
        var kept = SpreadRules.KeptPerNode(pods, 3, ScaleDownRanking.ExactReadyTime);

        Assert.That(Text(kept), Is.EqualTo(new Dictionary<string, string> { ["w1-k8s"] = "0", ["w2-k8s"] = "1", ["w3-k8s"] = "2" }));
        Assert.That(SpreadRules.OnePerWorkerGuaranteed(kept, Workers), Is.False);
        Assert.That(SpreadRules.Describe(pods.GroupBy(p => p.Node!).ToDictionary(g => g.Key, g => g.Count()), kept),
            Is.EqualTo("w1-k8s: 4 → 0\nw2-k8s: 3 → 1\nw3-k8s: 2 → 2"));
    }

    [Test]
    public void On_1_20_with_the_gate_on_a_worker_left_empty_is_no_fault_and_the_scale_down_is_asserted_as_ranked()
    {
        // The revised lab: kube-scheduler v1.20.2 as kubeadm runs it. 5/4/0 after the scale-up is allowed (soft maxSkew 3);
        // the scale-down deletes all five of w1 (rank 5) and one of w2's four: w1 0, w2 3, w3 0, nothing left to chance.
        var promise = SpreadRules.Of("v1.20.2", null, null);
        List<RankedPod> pods =
        [
            Ready("a1", "w1-k8s", 0), Ready("a2", "w1-k8s", 10), Ready("a3", "w1-k8s", 11), Ready("a4", "w1-k8s", 12), Ready("a5", "w1-k8s", 13),
            Ready("b1", "w2-k8s", 1), Ready("b2", "w2-k8s", 14), Ready("b3", "w2-k8s", 15), Ready("b4", "w2-k8s", 16),
        ];
        var kept = SpreadRules.KeptPerNode(pods, 3, promise.Ranking);

        Assert.That(promise.EveryWorkerAfterScaleUp, Is.False);
        Assert.That(Text(kept), Is.EqualTo(new Dictionary<string, string> { ["w1-k8s"] = "0", ["w2-k8s"] = "3" }));
        Assert.That(kept.GetValueOrDefault("w3-k8s"), Is.EqualTo(new KeptRange(0, 0)));
        Assert.That(SpreadRules.OnePerWorkerGuaranteed(kept, Workers), Is.False);
    }

    [Test]
    public void Exact_ranking_leaves_pods_it_cannot_tell_apart_to_chance()
    {
        // w3's first pod became Ready in the same second, created in the same second, as the six new ones: one of the
        // seven stays, any of them.
        var pods = ThreePerWorker(20, sameSecond: true);
        pods[2] = Ready("old-2", "w3-k8s", 20, createdAfter: 15);
        var kept = SpreadRules.KeptPerNode(pods, 3, ScaleDownRanking.ExactReadyTime);

        Assert.That(Text(kept), Is.EqualTo(new Dictionary<string, string> { ["w1-k8s"] = "1..2", ["w2-k8s"] = "1..2", ["w3-k8s"] = "0..1" }));
        Assert.That(SpreadRules.OnePerWorkerGuaranteed(kept, Workers), Is.False);
    }

    [Test]
    public void Not_ready_pods_go_before_the_busiest_node()
    {
        List<RankedPod> pods =
        [
            Ready("a1", "w1-k8s", 0), Ready("a2", "w1-k8s", 10), Ready("a3", "w1-k8s", 11),
            new("b1", "w2-k8s", "Running", false, null, 0, T),
            Ready("c1", "w3-k8s", 1),
        ];
        var kept = SpreadRules.KeptPerNode(pods, 4, ScaleDownRanking.ExactReadyTime);

        Assert.That(Text(kept), Is.EqualTo(new Dictionary<string, string> { ["w1-k8s"] = "3", ["w2-k8s"] = "0", ["w3-k8s"] = "1" }));
    }

    [Test]
    public void Log_buckets_keep_the_first_pods_when_their_ages_are_powers_of_two_apart()
    {
        // At the scale-down the first pods have been Ready 45 s (bucket 2^35 ns = 34.4 s), the new ones 20..25 s (2^34 ns = 17.2 s).
        var kept = SpreadRules.KeptPerNode(ThreePerWorker(20), 3, ScaleDownRanking.LogarithmicBuckets, T.AddSeconds(45), T.AddSeconds(46));

        Assert.That(SpreadRules.OnePerWorkerGuaranteed(kept, Workers), Is.True, string.Join(", ", Text(kept)));
    }

    [Test]
    public void Log_buckets_make_pods_of_the_same_bucket_equals_so_one_per_worker_is_left_to_chance()
    {
        // Ready 40 s and 35 s before: both in the 2^35 ns bucket, decided by random UIDs.
        var kept = SpreadRules.KeptPerNode(ThreePerWorker(5, sameSecond: true), 3, ScaleDownRanking.LogarithmicBuckets, T.AddSeconds(40), T.AddSeconds(40));

        Assert.That(Text(kept), Is.EqualTo(new Dictionary<string, string> { ["w1-k8s"] = "0..3", ["w2-k8s"] = "0..3", ["w3-k8s"] = "0..3" }));
        Assert.That(SpreadRules.OnePerWorkerGuaranteed(kept, Workers), Is.False);
    }

    [Test]
    public void Log_buckets_cover_every_now_in_the_window()
    {
        // First pods Ready at T, new ones at T+16 s. now = T+33 s: 33 s (bucket 34) vs 17 s (bucket 33), told apart;
        // from T+33.18 s the new ones reach 2^34 ns too (ties), until T+34.36 s moves the first ones to bucket 35.
        var pods = ThreePerWorker(16, sameSecond: true);
        var narrow = SpreadRules.KeptPerNode(pods, 3, ScaleDownRanking.LogarithmicBuckets, T.AddSeconds(33), T.AddSeconds(33.1));
        var wide = SpreadRules.KeptPerNode(pods, 3, ScaleDownRanking.LogarithmicBuckets, T.AddSeconds(33), T.AddSeconds(36));

        Assert.That(SpreadRules.OnePerWorkerGuaranteed(narrow, Workers), Is.True, string.Join(", ", Text(narrow)));
        Assert.That(SpreadRules.OnePerWorkerGuaranteed(wide, Workers), Is.False, string.Join(", ", Text(wide)));
    }

    [Test]
    public void Log_buckets_need_the_window_of_the_controllers_now() =>
        Assert.That(() => SpreadRules.KeptPerNode(ThreePerWorker(20), 3, ScaleDownRanking.LogarithmicBuckets), Throws.ArgumentException);

    [Test]
    public void A_pod_is_read_as_the_ranking_reads_it()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "echo-hname-1", CreationTimestamp = new DateTime(2026, 12, 5, 17, 0, 0, DateTimeKind.Utc) },
            Spec = new V1PodSpec { NodeName = "w2-k8s" },
            Status = new V1PodStatus
            {
                Phase = "Running",
                Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = new DateTime(2026, 12, 5, 17, 0, 7, DateTimeKind.Utc) }],
                ContainerStatuses = [new V1ContainerStatus { Name = "a", RestartCount = 1 }, new V1ContainerStatus { Name = "b", RestartCount = 3 }],
            },
        };

        Assert.That(RankedPod.Of(pod), Is.EqualTo(new RankedPod("echo-hname-1", "w2-k8s", "Running", true, T.AddSeconds(7), 3, T)));
    }
}
