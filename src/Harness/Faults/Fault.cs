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

/// <summary>Carries out reverts; the cluster layer implements it.</summary>
public interface IReverter
{
    Task RevertAsync(Revert revert, CancellationToken ct);
}

/// <summary>A fault that could not be undone. Its message starts with "Unreverted fault" (a report category).</summary>
public sealed class UnrevertedFaultException(string message, Exception? inner = null) : Exception(message, inner);
