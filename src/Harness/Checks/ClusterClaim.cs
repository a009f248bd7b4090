namespace Harness.Checks;

/// <summary>
/// What a check touches on the cluster, as data: the nodes it breaks or takes out of scheduling (<see cref="Breaks"/>,
/// nobody else may use them meanwhile) and the nodes it needs healthy (<see cref="Needs"/>, others may need them too).
/// Two checks whose claims do not conflict run side by side (<see cref="ClaimBoard"/>).
/// </summary>
public sealed record ClusterClaim
{
    public static readonly ClusterClaim Nothing = new();

    public IReadOnlySet<string> Breaks { get; private init; } = new HashSet<string>();
    public IReadOnlySet<string> Needs { get; private init; } = new HashSet<string>();

    /// <summary>Adds nodes this check breaks (a node fault, a cordon): no other check may use them meanwhile.</summary>
    public ClusterClaim Breaking(IEnumerable<string> nodes)
    {
        var breaks = Breaks.Union(nodes).ToHashSet();
        return this with { Breaks = breaks, Needs = Needs.Except(breaks).ToHashSet() };
    }

    /// <summary>Adds nodes this check needs healthy (its pods run there, or may be scheduled there).</summary>
    public ClusterClaim Needing(IEnumerable<string> nodes) => this with { Needs = Needs.Union(nodes).Except(Breaks).ToHashSet() };

    /// <summary>Every node it names, broken or needed.</summary>
    public IEnumerable<string> Nodes => Breaks.Concat(Needs);

    /// <summary>Whether the two cannot run at the same time: one breaks a node the other breaks or needs.</summary>
    public bool ConflictsWith(ClusterClaim other) =>
        Breaks.Overlaps(other.Breaks) || Breaks.Overlaps(other.Needs) || Needs.Overlaps(other.Breaks);

    public override string ToString()
    {
        var parts = new List<string>();
        if (Breaks.Count > 0) parts.Add($"breaks {string.Join(", ", Breaks.Order())}");
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

    /// <summary>Nodes that checks other than <paramref name="check"/> are breaking now: a steady-state look leaves them out.</summary>
    public IReadOnlySet<string> BrokenByOthers(string check)
    {
        lock (_gate) return _held.Where(h => h.Key != check).SelectMany(h => h.Value.Breaks).ToHashSet();
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
