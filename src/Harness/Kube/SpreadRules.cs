using System.Numerics;
using k8s.Models;

namespace Harness.Kube;

/// <summary>Who spreads a Deployment's replicas over the nodes when the pod asks for nothing itself.</summary>
public enum Spreader
{
    /// <summary>The scheduler's SelectorSpread score: fewer pods of the same Service/ReplicaSet on a node, the better
    /// (1.18's default; 1.19–1.23 with the DefaultPodTopologySpread gate off).</summary>
    SelectorSpread,

    /// <summary>PodTopologySpread with the system default constraints: hostname maxSkew 3 and zone maxSkew 5, both
    /// ScheduleAnyway, i.e. a score, never a filter (1.19 with the gate on, 1.20–1.23 unless turned off, always from 1.24).</summary>
    DefaultTopologySpread,
}

/// <summary>How the ReplicaSet controller orders same-node-count pods when it scales down.</summary>
public enum ScaleDownRanking
{
    /// <summary>The most recently Ready pod goes first, by exact ready time (then restarts, then creation time).</summary>
    ExactReadyTime,

    /// <summary>LogarithmicScaleDown: ready times compared in powers-of-two buckets of their age; within a bucket by UID
    /// (random).</summary>
    LogarithmicBuckets,
}

/// <summary>What the cluster's Kubernetes promises about S6 (scale echo-hname to three per worker, then to one per worker),
/// and why, in the report's words.</summary>
/// <param name="Spreading">The report's line on the scheduler, e.g. "kube-scheduler v1.20.2 with
/// DefaultPodTopologySpread=false: the book's 1.18 spreading (SelectorSpread)".</param>
/// <param name="ScaleDown">The report's line on the ReplicaSet controller's scale-down.</param>
public sealed record SpreadPromise(Spreader Spreader, ScaleDownRanking Ranking, string Spreading, string ScaleDown)
{
    /// <summary>After the scale-up every worker has pods: what the book shows and SelectorSpread is built for. SelectorSpread
    /// is a score too (weight 1 in 1.18's default provider), not a filter, so this is the book's expectation under the
    /// scheduler that spreads by selector (the lab saw it 5 of 5), not a hard guarantee of the source. With the default
    /// topology spread (soft, maxSkew 3) a worker may be left without any, so only "all Ready, none on the control plane"
    /// is asserted there.</summary>
    public bool EveryWorkerAfterScaleUp => Spreader == Spreader.SelectorSpread;
}

/// <summary>A pod as the ReplicaSet controller's scale-down ranking reads it (<c>controller.ActivePodsWithRanks.Less</c>).</summary>
public sealed record RankedPod(string Name, string? Node, string Phase, bool Ready, DateTimeOffset? ReadySince, int Restarts, DateTimeOffset Created)
{
    /// <summary>The fields <c>ActivePodsWithRanks.Less</c> compares: spec.nodeName, status.phase, the Ready condition and
    /// its lastTransitionTime (<c>podReadyTime</c>), the most restarts of one container (<c>maxContainerRestarts</c>),
    /// metadata.creationTimestamp.</summary>
    public static RankedPod Of(V1Pod pod)
    {
        var ready = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready" && c.Status == "True");
        return new RankedPod(pod.Name(), pod.Spec?.NodeName, pod.Status?.Phase ?? "", ready is not null,
            ready?.LastTransitionTime is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null,
            pod.Status?.ContainerStatuses?.Select(c => c.RestartCount).DefaultIfEmpty(0).Max() ?? 0,
            pod.Metadata?.CreationTimestamp is { } c ? new DateTimeOffset(DateTime.SpecifyKind(c, DateTimeKind.Utc)) : default);
    }
}

/// <summary>How many of a node's pods the scale-down may keep: exactly <see cref="Min"/> when it equals <see cref="Max"/>,
/// otherwise any number in between (pods the ranking cannot tell apart are deleted in no promised order).</summary>
public readonly record struct KeptRange(int Min, int Max)
{
    public bool Contains(int count) => count >= Min && count <= Max;

    public override string ToString() => Min == Max ? $"{Min}" : $"{Min}..{Max}";
}

/// <summary>
/// What S6 may assert on the cluster's Kubernetes version, read from Kubernetes' own source (the book's 1.18 promises
/// "three per worker, then one per worker"; later releases promise less). Pure: the caller reads the cluster (the API
/// server's version, the kube-scheduler and kube-controller-manager static pods' command lines).
/// <para>
/// <b>Scheduler.</b> 1.18: the default algorithm provider scores with SelectorSpread (<c>pkg/scheduler/algorithmprovider/registry.go</c>,
/// <c>getDefaultConfig</c>). 1.19 adds the feature gate <c>DefaultPodTopologySpread</c> (<c>pkg/features/kube_features.go</c>:
/// alpha 1.19 default off, beta 1.20 default on, GA 1.24 locked to on, removed in 1.26). While it is off,
/// <c>applyFeatureGates</c> (<c>pkg/scheduler/algorithmprovider/registry.go</c> 1.19–1.20,
/// <c>pkg/scheduler/apis/config/v1beta1|v1beta2/default_plugins.go</c> 1.21–1.23) registers SelectorSpread; while it is
/// on, PodTopologySpread scores with the system default constraints instead (<c>systemDefaultConstraints</c> in
/// <c>pkg/scheduler/framework/plugins/podtopologyspread/plugin.go</c>; <c>SetDefaults_PodTopologySpreadArgs</c> in
/// <c>pkg/scheduler/apis/config/v1beta1/defaults.go</c> 1.19–1.20): <c>kubernetes.io/hostname</c> maxSkew 3 and
/// <c>topology.kubernetes.io/zone</c> maxSkew 5, both <c>ScheduleAnyway</c>. ScheduleAnyway constraints are scored, never
/// filtered, and maxSkew 3 lets a node hold three more pods than another before the score even cares: a worker may
/// end without pods (the lab saw 2 of 3 replicas on one worker on 1.20.2). A locked GA gate cannot be turned off (the
/// scheduler refuses to start), a removed one is unknown (likewise): from 1.24 a running scheduler spreads by default.
/// </para>
/// <para>
/// <b>Scale-down.</b> <c>pkg/controller/replicaset/replica_set.go</c>, <c>getPodsToDelete</c>: the pods are sorted once by
/// <c>controller.ActivePodsWithRanks</c> (<c>pkg/controller/controller_utils.go</c>, <c>Less</c>) with each pod's rank =
/// the active pods of the Deployment on its node (<c>getPodsRankedByRelatedPodsOnSameNode</c>, kubernetes#80004 of
/// 2019, so in the book's 1.18; unchanged since: #102949, a per-pod rank, was closed unmerged), and the first <c>diff</c> are deleted: unassigned, then Pending &lt; Unknown &lt; Running,
/// not ready, (1.21+: lower <c>pod-deletion-cost</c>; echo-hname's pods have none), <b>more pods on the node first</b>,
/// then the latest Ready, more restarts, the newest. The rank is counted before any deletion, so it only says "the
/// busiest nodes first" <i>between</i> nodes with different counts: from three per worker (all ranks equal) the ranking
/// falls through to ready time, and from 4/3/2 it deletes all of the 4 and two of the 3 (0/1/2 left). "One per worker"
/// is therefore guaranteed only when the pods the order keeps happen to be one per worker: before LogarithmicScaleDown,
/// from an even scale-up whose W oldest-Ready pods (the first apply's) sit one per worker. LogarithmicScaleDown
/// (<c>pkg/features/kube_features.go</c>: alpha 1.21, beta 1.22 default on, GA 1.31) compares ready times as
/// <c>int(log2(now - readyTime))</c> (<c>logarithmicRankDiff</c>) and pods in the same bucket by UID, i.e. at random: two
/// pods ready 40 s and 35 s before the scale-down are equals. <see cref="KeptPerNode"/> works this out from the pods as
/// they were before the scale-down; the check asserts exactly that.
/// </para>
/// </summary>
public static class SpreadRules
{
    public const string DefaultPodTopologySpread = "DefaultPodTopologySpread";
    public const string LogarithmicScaleDown = "LogarithmicScaleDown";

    /// <summary>
    /// A feature gate's value on a component's command line (<c>--feature-gates=A=true,B=false</c>, also split over
    /// command and args, or as <c>--feature-gates A=true</c>; a later flag overrides an earlier one, as pflag's map flag
    /// does), or null when the command line does not set it.
    /// </summary>
    public static bool? FeatureGate(IEnumerable<string>? commandLine, string gate)
    {
        bool? value = null;
        var words = commandLine?.ToList() ?? [];
        for (var i = 0; i < words.Count; i++)
        {
            string? list = words[i].StartsWith("--feature-gates=", StringComparison.Ordinal) ? words[i]["--feature-gates=".Length..]
                : words[i] == "--feature-gates" && i + 1 < words.Count ? words[++i] : null;
            if (list is null) continue;
            foreach (var pair in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var kv = pair.Split('=', 2, StringSplitOptions.TrimEntries);
                if (kv.Length == 2 && kv[0] == gate && bool.TryParse(kv[1], out var on)) value = on;
            }
        }
        return value;
    }

    /// <summary>
    /// What S6 may assert on a cluster whose API server reports <paramref name="serverVersion"/> (the control plane's
    /// version: kubeadm runs scheduler and controller-manager at the API server's version), given the
    /// <c>--feature-gates</c> the kube-scheduler and kube-controller-manager run with (null: not set, or the component's
    /// command line could not be read — then the version's default counts).
    /// </summary>
    public static SpreadPromise Of(string serverVersion, bool? defaultPodTopologySpread, bool? logarithmicScaleDown)
    {
        var v = KubeVersion.Parse(serverVersion)
                ?? throw new ArgumentException($"'{serverVersion}' is no Kubernetes version (major.minor.patch)", nameof(serverVersion));
        var name = v.ToString();
        var minor = v.Major == 1 ? v.Minor : 99;

        var gate = defaultPodTopologySpread switch { true => $" with {DefaultPodTopologySpread}=true", false => $" with {DefaultPodTopologySpread}=false", null => "" };
        (Spreader spreader, string spreading) = minor switch
        {
            < 19 => (Spreader.SelectorSpread, $"kube-scheduler {name}: the book's 1.18 spreading (SelectorSpread; {DefaultPodTopologySpread} does not exist before 1.19)"),
            19 when defaultPodTopologySpread == true => (Spreader.DefaultTopologySpread,
                $"kube-scheduler {name}{gate}: default topology spread (hostname maxSkew 3, ScheduleAnyway) instead of 1.18's SelectorSpread"),
            19 => (Spreader.SelectorSpread, $"kube-scheduler {name}{(gate.Length > 0 ? gate : $" ({DefaultPodTopologySpread} alpha, off by default)")}: the book's 1.18 spreading (SelectorSpread)"),
            <= 23 when defaultPodTopologySpread == false => (Spreader.SelectorSpread, $"kube-scheduler {name}{gate}: the book's 1.18 spreading (SelectorSpread)"),
            <= 23 => (Spreader.DefaultTopologySpread,
                $"kube-scheduler {name}{(gate.Length > 0 ? gate : $" ({DefaultPodTopologySpread} beta, on by default)")}: default topology spread (hostname maxSkew 3, ScheduleAnyway) instead of 1.18's SelectorSpread: a worker may get no pods"),
            <= 25 => (Spreader.DefaultTopologySpread,
                $"kube-scheduler {name} ({DefaultPodTopologySpread} GA, locked on since 1.24): default topology spread (hostname maxSkew 3, ScheduleAnyway): a worker may get no pods"),
            _ => (Spreader.DefaultTopologySpread,
                $"kube-scheduler {name} (default topology spread always on; {DefaultPodTopologySpread} removed in 1.26): hostname maxSkew 3, ScheduleAnyway: a worker may get no pods"),
        };

        var logGate = logarithmicScaleDown switch { true => $" with {LogarithmicScaleDown}=true", false => $" with {LogarithmicScaleDown}=false", null => "" };
        var logOn = minor switch
        {
            < 21 => false,
            21 => logarithmicScaleDown == true,
            <= 30 => logarithmicScaleDown != false,
            _ => true, // GA in 1.31: locked on
        };
        const string busiestFirst = "pods on nodes with more replicas first (counted before the scale-down)";
        var scaleDown = minor switch
        {
            < 21 => $"kube-controller-manager {name}: {busiestFirst}, then the most recently Ready ({LogarithmicScaleDown} does not exist before 1.21)",
            _ when !logOn => $"kube-controller-manager {name}{(logGate.Length > 0 ? logGate : $" ({LogarithmicScaleDown} alpha, off by default)")}: {busiestFirst}, then the most recently Ready",
            <= 30 => $"kube-controller-manager {name}{(logGate.Length > 0 ? logGate : $" ({LogarithmicScaleDown} beta, on by default)")}: {busiestFirst}, then by ready time in log2 buckets, within a bucket at random (by UID)",
            _ => $"kube-controller-manager {name} ({LogarithmicScaleDown} GA since 1.31): {busiestFirst}, then by ready time in log2 buckets, within a bucket at random (by UID)",
        };
        return new SpreadPromise(spreader, logOn ? ScaleDownRanking.LogarithmicBuckets : ScaleDownRanking.ExactReadyTime, spreading, scaleDown);
    }

    /// <summary>
    /// How many pods of each node a scale-down from <paramref name="pods"/> (the ReplicaSet's active pods just before it)
    /// to <paramref name="keep"/> leaves, as <c>getPodsToDelete</c> promises: the pods sorted by
    /// <c>ActivePodsWithRanks.Less</c>, the first <c>pods - keep</c> deleted. Pods the ranking cannot tell apart (same
    /// key; <c>sort.Sort</c> is not stable, and LogarithmicScaleDown decides same-bucket pods by random UIDs) may go in any
    /// order, so a node gets a range. With log buckets the controller's <c>now</c> is not known exactly: it lies in
    /// [<paramref name="nowFrom"/>, <paramref name="nowTo"/>] (the caller's clock widened by its skew to the cluster's),
    /// and the ranges cover every bucketing in that window. Simplification, on the safe side: with log buckets, pods in
    /// the same bucket count as equals even when their exact ready times are equal and restarts would decide.
    /// </summary>
    public static IReadOnlyDictionary<string, KeptRange> KeptPerNode(IReadOnlyList<RankedPod> pods, int keep, ScaleDownRanking ranking,
        DateTimeOffset nowFrom = default, DateTimeOffset nowTo = default)
    {
        if (keep < 0 || keep > pods.Count) throw new ArgumentOutOfRangeException(nameof(keep), $"keep {keep} of {pods.Count} pods");
        var onNode = pods.Where(p => !string.IsNullOrEmpty(p.Node)).GroupBy(p => p.Node!).ToDictionary(g => g.Key, g => g.Count());
        if (ranking == ScaleDownRanking.ExactReadyTime)
            return Kept(pods, keep, onNode, p => ExactKey(p, onNode));

        if (nowFrom == default || nowTo < nowFrom)
            throw new ArgumentException("log buckets need the window of the controller's now: nowFrom set, nowTo not before it", nameof(nowTo));
        // log2 buckets change only where now - t crosses a power of two: evaluate at the window's start and at every such
        // crossing inside it; the bucketing is constant in between.
        var from = Nanos(nowFrom);
        var to = Nanos(nowTo);
        var candidates = new SortedSet<long> { from };
        foreach (var t in pods.Where(p => p.Ready && p.ReadySince is not null).Select(p => Nanos(p.ReadySince!.Value)).Distinct())
            for (var k = 0; k < 62; k++)
            {
                var crossing = t + (1L << k);
                if (crossing > to) break;
                if (crossing > from) candidates.Add(crossing);
            }
        Dictionary<string, KeptRange>? all = null;
        foreach (var now in candidates)
        {
            var at = Kept(pods, keep, onNode, p => LogKey(p, onNode, now));
            all = all is null ? new Dictionary<string, KeptRange>(at)
                : all.ToDictionary(kv => kv.Key, kv => new KeptRange(Math.Min(kv.Value.Min, at[kv.Key].Min), Math.Max(kv.Value.Max, at[kv.Key].Max)));
        }
        return all!;
    }

    /// <summary>True when every one of <paramref name="workers"/> keeps exactly one pod whatever order the ranking leaves open.</summary>
    public static bool OnePerWorkerGuaranteed(IReadOnlyDictionary<string, KeptRange> kept, IEnumerable<string> workers) =>
        workers.All(w => kept.TryGetValue(w, out var r) && r is { Min: 1, Max: 1 });

    /// <summary>The report's text: one line per node, e.g. <c>w1-k8s: 3 → 1</c> or <c>w2-k8s: 4 → 0..1</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, int> before, IReadOnlyDictionary<string, KeptRange> kept) =>
        string.Join("\n", before.Keys.Union(kept.Keys).Order(StringComparer.Ordinal)
            .Select(n => $"{n}: {before.GetValueOrDefault(n)} → {(kept.TryGetValue(n, out var r) ? r.ToString() : "0")}"));

    // ---- the ranking ------------------------------------------------------------------------------------------

    /// <summary>Deletion order keys: a smaller key is deleted first; equal keys are pods the ranking does not order.</summary>
    private static IReadOnlyDictionary<string, KeptRange> Kept(IReadOnlyList<RankedPod> pods, int keep, Dictionary<string, int> onNode,
        Func<RankedPod, long[]> key)
    {
        var delete = pods.Count - keep;
        var classes = pods.GroupBy(key, KeyComparer.Instance).OrderBy(g => g.Key, KeyComparer.Instance).Select(g => g.ToList()).ToList();
        var min = onNode.Keys.ToDictionary(n => n, _ => 0);
        var max = onNode.Keys.ToDictionary(n => n, _ => 0);
        var before = 0;
        foreach (var members in classes)
        {
            var deletedHere = Math.Clamp(delete - before, 0, members.Count);
            var keptHere = members.Count - deletedHere;
            before += members.Count;
            foreach (var node in members.Where(p => !string.IsNullOrEmpty(p.Node)).GroupBy(p => p.Node!))
            {
                var mine = node.Count();
                var others = members.Count - mine;
                min[node.Key] += Math.Max(0, keptHere - others);
                max[node.Key] += Math.Min(keptHere, mine);
            }
        }
        return onNode.Keys.ToDictionary(n => n, n => new KeptRange(min[n], max[n]));
    }

    /// <summary>1. unassigned &lt; assigned, 2. Pending &lt; Unknown &lt; Running, 3. not ready &lt; ready, 5. more pods on
    /// the node &lt; fewer (4, pod-deletion-cost, is 0 for all: echo-hname sets none).</summary>
    private static long[] CommonKey(RankedPod p, Dictionary<string, int> onNode) =>
    [
        string.IsNullOrEmpty(p.Node) ? 0 : 1,
        p.Phase switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 }, // podPhaseToOrdinal: others map to 0
        p.Ready ? 1 : 0,
        string.IsNullOrEmpty(p.Node) ? 0 : -onNode[p.Node!],
    ];

    /// <summary>6. ready later (or never) &lt; ready earlier (both ready only), 7. more restarts &lt; fewer, 8. newer &lt; older.</summary>
    private static long[] ExactKey(RankedPod p, Dictionary<string, int> onNode) =>
    [
        .. CommonKey(p, onNode),
        p.Ready ? p.ReadySince is { } r ? -r.UtcTicks : long.MinValue : 0,
        -p.Restarts,
        p.Created == default ? long.MinValue : -p.Created.UtcTicks,
    ];

    /// <summary>6. with LogarithmicScaleDown: int(log2(now - readyTime)), a larger bucket (older) kept; same bucket: by UID.</summary>
    private static long[] LogKey(RankedPod p, Dictionary<string, int> onNode, long now) =>
    [
        .. CommonKey(p, onNode),
        p.Ready ? p.ReadySince is { } r ? Bucket(now - Nanos(r)) : long.MinValue : 0,
    ];

    /// <summary><c>logarithmicRankDiff</c>: -1 for a time not in the past, else <c>int64(math.Log2(float64(d)))</c>, which
    /// for whole nanoseconds below 2^53 is the index of the highest set bit.</summary>
    private static long Bucket(long nanos) => nanos <= 0 ? -1 : BitOperations.Log2((ulong)nanos);

    private static long Nanos(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private sealed class KeyComparer : IComparer<long[]>, IEqualityComparer<long[]>
    {
        public static readonly KeyComparer Instance = new();

        public int Compare(long[]? x, long[]? y)
        {
            for (var i = 0; i < Math.Min(x!.Length, y!.Length); i++)
                if (x[i] != y[i]) return x[i].CompareTo(y[i]);
            return x.Length.CompareTo(y.Length);
        }

        public bool Equals(long[]? x, long[]? y) => Compare(x, y) == 0;

        public int GetHashCode(long[] key) => key.Aggregate(17, (h, v) => h * 31 + v.GetHashCode());
    }
}
