using System.Text.Json.Serialization;

namespace Harness.Faults;

[JsonConverter(typeof(JsonStringEnumConverter<RevertKind>))]
public enum RevertKind
{
    /// <summary>Run <see cref="Revert.Command"/> as root on the node.</summary>
    NodeCommand,

    /// <summary>Run <see cref="Revert.Command"/> (if any), then reboot the node and wait until it is Ready again.</summary>
    NodeReboot,

    /// <summary>Make the node schedulable again (after cordon or drain).</summary>
    Uncordon,

    /// <summary>Delete the suite's namespace and everything the check created in it.</summary>
    DeleteNamespace,
}

/// <summary>
/// What undoes a fault. Plain data, so it can be written to the ledger before the fault is injected and carried out
/// by a later run if this one dies.
/// </summary>
public sealed record Revert(RevertKind Kind, string Target, string? Command = null)
{
    public static Revert OnNode(string node, string command) => new(RevertKind.NodeCommand, node, command);
    public static Revert RebootNode(string node, string? restoreFirst = null) => new(RevertKind.NodeReboot, node, restoreFirst);
    public static Revert UncordonNode(string node) => new(RevertKind.Uncordon, node);
    public static Revert DeleteNamespace(string ns) => new(RevertKind.DeleteNamespace, ns);

    public override string ToString() => Kind switch
    {
        RevertKind.NodeCommand => $"on {Target}: {Command}",
        RevertKind.NodeReboot => Command is null ? $"reboot {Target}" : $"on {Target}: {Command}; reboot",
        RevertKind.Uncordon => $"kubectl uncordon {Target}",
        RevertKind.DeleteNamespace => $"kubectl delete namespace {Target}",
        _ => Kind.ToString(),
    };
}

/// <summary>
/// A fault as data, declared once by the check that injects it: its name, where it goes, what is done (as the book
/// types it) and what undoes it. The dry run lists it and <see cref="FaultScope.InjectAsync"/> injects it, so the two
/// cannot say different things.
/// </summary>
/// <param name="Name">Short name, e.g. "kubelet stopped"; the ledger and the report's "faults" parameter use it.</param>
/// <param name="Target">The node, or the object for a fault inside the cluster (a pod, a Deployment, a namespace).</param>
/// <param name="Command">What is done, as the book would type it (for a node fault, the command run there as root).</param>
/// <param name="IsNodeFault">A node fault: <paramref name="Target"/> must be one of the profile's fault targets.</param>
public sealed record Fault(string Name, string Target, string Command, Revert Revert, bool IsNodeFault)
{
    /// <summary>A fault on a node, e.g. <c>systemctl stop kubelet</c> on w1-k8s; refused unless the node is a fault target.</summary>
    public static Fault OnNode(string name, string node, string command, Revert revert) => new(name, node, command, revert, IsNodeFault: true);

    /// <summary>A fault inside the cluster (a pod killed or deleted, a bad image tag, the check's namespace).</summary>
    public static Fault InCluster(string name, string target, string command, Revert revert) => new(name, target, command, revert, IsNodeFault: false);

    /// <summary>One line of the dry run's plan: what is done where, and what undoes it.</summary>
    public override string ToString() => $"{Name} on {Target}: `{Command}` — revert: {Revert}";
}

/// <summary>Carries out reverts; the cluster layer implements it.</summary>
public interface IReverter
{
    Task RevertAsync(Revert revert, CancellationToken ct);
}

/// <summary>A fault that could not be undone. Its message starts with "Unreverted fault" (a report category).</summary>
public sealed class UnrevertedFaultException(string message, Exception? inner = null) : Exception(message, inner);
