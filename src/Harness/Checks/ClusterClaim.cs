namespace Harness.Checks;

/// <summary>
/// What a check touches on the cluster, as data: the nodes it breaks (<see cref="Breaks"/>: a stopped kubelet, a
/// broken pod network, a drain that evicts; nobody else may use them meanwhile), the nodes it takes out of scheduling
/// (<see cref="Cordons"/>: pods already there keep running), the nodes it needs healthy (<see cref="Needs"/>) and the
/// nodes it needs schedulable as well (<see cref="NeedsSchedulable"/>: it counts where the scheduler puts pods).
/// Two checks whose claims do not conflict run side by side (<see cref="ClaimBoard"/>).
/// </summary>
public sealed record ClusterClaim
{
    public static readonly ClusterClaim Nothing = new();

    public IReadOnlySet<string> Breaks { get; private init; } = new HashSet<string>();
    public IReadOnlySet<string> Needs { get; private init; } = new HashSet<string>();
    public IReadOnlySet<string> Cordons { get; private init; } = new HashSet<string>();
    public IReadOnlySet<string> NeedsSchedulable { get; private init; } = new HashSet<string>();

    /// <summary>Adds nodes this check breaks (a node fault): no other check may use them meanwhile.</summary>
    public ClusterClaim Breaking(IEnumerable<string> nodes) => Normalised(this with { Breaks = Breaks.Union(nodes).ToHashSet() });

    /// <summary>Adds nodes this check cordons: checks that only need them healthy may go on; checks that count on scheduling there may not.</summary>
    public ClusterClaim Cordoning(IEnumerable<string> nodes) => Normalised(this with { Cordons = Cordons.Union(nodes).ToHashSet() });

    /// <summary>Adds nodes this check needs healthy (its pods run there, or may be scheduled there).</summary>
    public ClusterClaim Needing(IEnumerable<string> nodes) => Normalised(this with { Needs = Needs.Union(nodes).ToHashSet() });

    /// <summary>Adds nodes this check needs healthy and schedulable (it asserts where the scheduler puts pods).</summary>
    public ClusterClaim NeedingSchedulable(IEnumerable<string> nodes) => Normalised(this with { NeedsSchedulable = NeedsSchedulable.Union(nodes).ToHashSet() });

    /// <summary>A node is in its strongest set only: broken, else cordoned, else needed schedulable, else needed.</summary>
    private static ClusterClaim Normalised(ClusterClaim c)
    {
        var cordons = c.Cordons.Except(c.Breaks).ToHashSet();
        var schedulable = c.NeedsSchedulable.Except(c.Breaks).Except(cordons).ToHashSet();
        return c with { Cordons = cordons, NeedsSchedulable = schedulable, Needs = c.Needs.Except(c.Breaks).Except(cordons).Except(schedulable).ToHashSet() };
    }

    /// <summary>Nodes it breaks or cordons: what another check's steady state leaves out meanwhile.</summary>
    public IEnumerable<string> Disturbs => Breaks.Concat(Cordons);

    /// <summary>Every node it names.</summary>
    public IEnumerable<string> Nodes => Breaks.Concat(Cordons).Concat(NeedsSchedulable).Concat(Needs);

    /// <summary>
    /// Whether the two cannot run at the same time: one breaks a node the other names at all, or one cordons a node
    /// the other cordons or needs schedulable.
    /// </summary>
    public bool ConflictsWith(ClusterClaim other) =>
        Breaks.Overlaps(other.Nodes) || other.Breaks.Overlaps(Nodes)
        || Cordons.Overlaps(other.Cordons) || Cordons.Overlaps(other.NeedsSchedulable) || other.Cordons.Overlaps(NeedsSchedulable);

    public override string ToString()
    {
        var parts = new List<string>();
        if (Breaks.Count > 0) parts.Add($"breaks {string.Join(", ", Breaks.Order())}");
        if (Cordons.Count > 0) parts.Add($"cordons {string.Join(", ", Cordons.Order())}");
        if (NeedsSchedulable.Count > 0) parts.Add($"needs {string.Join(", ", NeedsSchedulable.Order())} schedulable");
        if (Needs.Count > 0) parts.Add($"needs {string.Join(", ", Needs.Order())} healthy");
        return parts.Count == 0 ? "touches no node" : string.Join("; ", parts);
    }
}

/// <summary>
/// Who holds which nodes while checks run side by side. A check waits until its claim conflicts with no running
/// check's, then holds it until it has left the cluster as it found it. Waiting checks are granted in the order they
/// asked, each as soon as it fits (a later check may start before an earlier one that still waits for a node).
/// </summary>
public sealed class ClaimBoard
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClusterClaim> _held = [];
    private readonly List<Waiter> _waiting = [];

    private sealed record Waiter(string Check, ClusterClaim Claim, TaskCompletionSource Granted);

    /// <summary>Waits until <paramref name="claim"/> conflicts with no held claim, then holds it until the result is disposed.</summary>
    /// <param name="onWait">Called once, with the checks it waits for, when the claim cannot be granted at once.</param>
    public async Task<IDisposable> AcquireAsync(string check, ClusterClaim claim, CancellationToken ct, Action<IReadOnlyList<string>>? onWait = null)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (_held.ContainsKey(check)) throw new InvalidOperationException($"{check} already holds a claim");
            var blockers = Blockers(claim);
            if (blockers.Count == 0)
            {
                _held[check] = claim;
                return new Release(this, check);
            }
            waiter = new(check, claim, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            _waiting.Add(waiter);
            onWait?.Invoke(blockers);
        }
        await using (ct.Register(() =>
        {
            lock (_gate)
                if (_waiting.Remove(waiter)) waiter.Granted.TrySetCanceled(ct);
        }))
            await waiter.Granted.Task;
        return new Release(this, check);
    }

    /// <summary>Nodes that checks other than <paramref name="check"/> are breaking or cordoning now: a steady-state look leaves them out.</summary>
    public IReadOnlySet<string> BrokenByOthers(string check)
    {
        lock (_gate) return _held.Where(h => h.Key != check).SelectMany(h => h.Value.Disturbs).ToHashSet();
    }

    /// <summary>The checks holding a claim now, with their claims (for a progress line).</summary>
    public IReadOnlyDictionary<string, ClusterClaim> Held()
    {
        lock (_gate) return new Dictionary<string, ClusterClaim>(_held);
    }

    private List<string> Blockers(ClusterClaim claim) => _held.Where(h => h.Value.ConflictsWith(claim)).Select(h => h.Key).ToList();

    private void Free(string check)
    {
        lock (_gate)
        {
            if (!_held.Remove(check)) return;
            foreach (var waiter in _waiting.ToList())
            {
                if (Blockers(waiter.Claim).Count > 0) continue;
                _waiting.Remove(waiter);
                _held[waiter.Check] = waiter.Claim;
                waiter.Granted.TrySetResult();
            }
        }
    }

    private sealed class Release(ClaimBoard board, string check) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) board.Free(check);
        }
    }
}
