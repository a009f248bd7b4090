using System.Diagnostics;

namespace Harness.Faults;

/// <summary>A fault that is in place until <see cref="FaultScope.RecoverAsync"/> or the scope's end undoes it.</summary>
public sealed class InjectedFault(LedgerEntry entry, Stopwatch sinceInject)
{
    public LedgerEntry Entry { get; } = entry;
    public string Name => Entry.Fault;
    public string Node => Entry.Node;
    public Revert Revert => Entry.Revert;
    public TimeSpan SinceInject => sinceInject.Elapsed;
    internal bool Closed { get; set; }
}

/// <summary>Where faults may go and whether they may go at all; checked before anything is written or run.</summary>
/// <param name="StoppableComponents">Control-plane components that may be stopped (<c>components.stoppable</c>); none when null.</param>
/// <param name="ControlPlane">The control plane's node name: the only node a component fault may target.</param>
public sealed record FaultPolicy(IReadOnlySet<string> Targets, bool DryRun, IReadOnlySet<string>? StoppableComponents = null, string? ControlPlane = null)
{
    /// <summary>Refuses a fault that may not go where it is aimed (see <see cref="EnsureTarget"/> and <see cref="EnsureComponent"/>).</summary>
    public void Ensure(Fault fault)
    {
        if (fault.Component is { } component) EnsureComponent(fault.Name, component, fault.Target);
        else if (fault.IsNodeFault) EnsureTarget(fault.Name, fault.Target);
    }

    /// <summary>A control-plane component may be stopped only when the profile lists it, and only on the control plane.</summary>
    public void EnsureComponent(string fault, string component, string node)
    {
        if (StoppableComponents?.Contains(component) != true)
            throw new InvalidOperationException(
                $"Refused to inject '{fault}': stopping {component} is not allowed by this profile (components.stoppable: " +
                $"{string.Join(", ", (StoppableComponents ?? new HashSet<string>()).Order())}). Add it there if you really mean it.");
        if (node != ControlPlane)
            throw new InvalidOperationException($"Refused to inject '{fault}' into {node}: {component} is stopped on the control plane ({ControlPlane ?? "unknown"}) only.");
    }

    public void EnsureTarget(string fault, string node)
    {
        if (!Targets.Contains(node))
            throw new InvalidOperationException(
                $"Refused to inject '{fault}' into {node}: it is not a fault target of this profile (targets: {string.Join(", ", Targets.Order())}). " +
                "Add it to 'faultTargets' in the profile if you really mean it.");
    }
}

/// <summary>
/// The faults of one check, and anything else it must undo. Every revert is registered (in memory and in the ledger on
/// disk) before its fault is injected; other clean-ups (<see cref="Defer"/>) are registered in memory. Whatever is
/// still in place when the scope ends is undone in one order, newest first (as Ginkgo's DeferCleanup), even when the
/// check failed or was cancelled. A revert or clean-up that fails is reported as an unreverted fault.
/// </summary>
/// <param name="identity">
/// Whose cluster this is, written into every ledger entry so a later run heals only its own cluster's faults
/// (<see cref="ClusterIdentity.ReadAsync"/>). Without it entries are written in the old form, which healing treats
/// with suspicion.
/// </param>
public sealed class FaultScope(FaultLedger ledger, IReverter reverter, FaultPolicy policy, string runId, string check,
    Action<string>? log = null, ClusterIdentity? identity = null) : IAsyncDisposable
{
    /// <summary>One thing to undo at the end: a fault (its revert is in the ledger) or a clean-up known only here.</summary>
    private sealed record Undo(InjectedFault? Injected, string? What, Func<CancellationToken, Task>? CleanUp);

    private readonly Stack<Undo> _toUndo = new();
    private readonly List<string> _unreverted = [];

    /// <summary>How long reverts may take at the end, whatever state the check's own token is in.</summary>
    public TimeSpan RevertDeadline { get; init; } = TimeSpan.FromMinutes(10);

    public IReadOnlyList<string> Unreverted => _unreverted;

    /// <summary>What was injected, for the report ("what was broken where").</summary>
    public List<LedgerEntry> History { get; } = [];

    /// <summary>Registers <paramref name="fault"/>'s revert (ledger, then memory), then runs <paramref name="inject"/>, which makes the fault.</summary>
    public async Task<InjectedFault> InjectAsync(Fault fault, Func<CancellationToken, Task> inject, CancellationToken ct)
    {
        policy.Ensure(fault);
        if (policy.DryRun)
            throw new DryRunException($"dry run: would inject '{fault.Name}' on {fault.Target} with `{fault.Command}`; revert: {fault.Revert}");
        ct.ThrowIfCancellationRequested();

        var entry = new LedgerEntry(Guid.NewGuid().ToString("N"), runId, check, fault.Name, fault.Target, fault.Command, fault.Revert,
            DateTimeOffset.UtcNow, Environment.MachineName, Environment.ProcessId, identity?.Profile, identity?.ClusterUid, identity?.CaFingerprint);
        ledger.Open(entry);                       // 1. on disk
        var handle = new InjectedFault(entry, Stopwatch.StartNew());
        _toUndo.Push(new Undo(handle, null, null)); // 2. in memory
        History.Add(entry);
        log?.Invoke($"inject '{fault.Name}' on {fault.Target}: {fault.Command} (revert registered: {fault.Revert})");
        await inject(ct);                         // 3. only now the fault itself
        return handle;
    }

    /// <summary>
    /// Undo a fault as part of the check's story (the book's recovery step). <paramref name="recovery"/> defaults to
    /// the registered revert; either way the ledger entry is closed only when it succeeded.
    /// </summary>
    public async Task RecoverAsync(InjectedFault fault, CancellationToken ct, Func<CancellationToken, Task>? recovery = null)
    {
        if (fault.Closed) return;
        await (recovery ?? (t => reverter.RevertAsync(fault.Revert, t)))(ct);
        fault.Closed = true;
        ledger.Close(fault.Entry.Id, "recovered by the check");
    }

    /// <summary>
    /// Registers a clean-up that is not a fault (nothing in the ledger: a crashed run does not redo it), to run when the
    /// scope ends, in the same newest-first order as the reverts of the faults injected before and after it.
    /// </summary>
    /// <param name="what">What it undoes, for the log and for the message if it fails.</param>
    public void Defer(string what, Func<CancellationToken, Task> cleanUp) => _toUndo.Push(new Undo(null, what, cleanUp));

    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(RevertDeadline);
        while (_toUndo.TryPop(out var undo))
        {
            if (undo.Injected is { } fault)
            {
                if (fault.Closed) continue;
                try
                {
                    log?.Invoke($"revert '{fault.Name}' on {fault.Node}: {fault.Revert}");
                    await reverter.RevertAsync(fault.Revert, deadline.Token);
                    fault.Closed = true;
                    ledger.Close(fault.Entry.Id, "reverted at the end of the check");
                }
                catch (Exception e)
                {
                    _unreverted.Add($"{fault.Name} on {fault.Node} ({fault.Revert}; ledger entry {fault.Entry.Id}): {e.Message}");
                }
                continue;
            }
            try
            {
                log?.Invoke($"clean up: {undo.What}");
                await undo.CleanUp!(deadline.Token);
            }
            catch (Exception e)
            {
                _unreverted.Add($"{undo.What} (clean-up, not in the ledger): {e.Message}");
            }
        }
        if (_unreverted.Count > 0)
            throw new UnrevertedFaultException(
                $"Unreverted fault(s) left by {check}: {string.Join("; ", _unreverted)}. They stay in the ledger {ledger.Path}; " +
                "the next run (or ./verify heal) retries them; if you repair them by hand, close them with ./verify heal --forget <ledger entry>.");
    }
}

/// <summary>Thrown instead of injecting when the profile asks for a dry run.</summary>
public sealed class DryRunException(string message) : Exception(message);
