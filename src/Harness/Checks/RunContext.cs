using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Kube;
using Harness.Reporting;

namespace Harness.Checks;

/// <summary>
/// What every check of one run shares, made once by the run's set-up (the Kubernetes e2e framework's
/// <c>TestContext</c>): the connected cluster, the fault ledger and where faults may go, whose cluster this is, the
/// run's metrics, its progress sink and its interruption. Each check gets its own <see cref="CheckContext"/> from it.
/// </summary>
public sealed class RunContext
{
    /// <summary>The cluster, connected once and shared: checks read it and run commands through it, never replace it.</summary>
    public required Cluster Cluster { get; init; }
    public required FaultLedger Ledger { get; init; }
    public required FaultPolicy Policy { get; init; }
    public required string RunId { get; init; }

    /// <summary>Profile and kube-system UID: ledger entries carry it, so a run heals only its own cluster's faults (null in a dry run).</summary>
    public ClusterIdentity? Identity { get; init; }

    public required RunMetrics Metrics { get; init; }

    /// <summary>The book's manifests (the repository's fixtures/manifests).</summary>
    public required Manifests Manifests { get; init; }

    /// <summary>A live console line (not in the report).</summary>
    public required Action<string> Progress { get; init; }

    /// <summary>Ctrl-C or SIGTERM: every check stops where it is and its faults are reverted.</summary>
    public CancellationToken Interrupted { get; init; }

    /// <summary>
    /// The profile's <c>kubernetes.namespace</c>, <c>verification</c>: preflight's namespace, and the prefix of each
    /// check's own (<see cref="CheckContext.NamespaceOf"/>).
    /// </summary>
    public required string Namespace { get; init; }

    /// <summary>Which check holds which nodes while checks run side by side.</summary>
    public ClaimBoard Claims { get; } = new();

    /// <summary>Set when a check left the cluster not as it found it: the following checks report that instead of failing one after another.</summary>
    public RunBlock Blocked { get; } = new();
}

/// <summary>Why the run's checks cannot go on (a check left the cluster not as it found it), or null; shared by checks side by side.</summary>
public sealed class RunBlock
{
    private string? _reason;

    public string? Reason
    {
        get => Volatile.Read(ref _reason);
        set => Volatile.Write(ref _reason, value);
    }
}
