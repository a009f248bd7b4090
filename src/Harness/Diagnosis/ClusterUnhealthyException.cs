using Harness.Probes;

namespace Harness.Diagnosis;

/// <summary>The cluster is not healthy enough for faults. The message starts with "Cluster health:" (a report
/// category of its own), names each broken component, its node and where to look, and says nothing was injected.</summary>
public sealed class ClusterUnhealthyException(string profile, IReadOnlyList<string> problems, string? evidence = null)
    : Exception($"Cluster health: profile '{profile}': {string.Join("; ", problems)}. Nothing was injected.")
{
    // Methods, not properties: NUnit prints an exception's public properties after its message.
    public IReadOnlyList<string> Problems() => problems;

    /// <summary>What was read on the cluster to name the problems (container states, /readyz, …), for the report; may be null.</summary>
    public string? Evidence() => evidence;
}
