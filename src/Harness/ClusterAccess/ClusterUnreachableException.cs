using Harness.Diagnosis;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Text;

namespace Harness.ClusterAccess;

/// <summary>The cluster could not be reached or used. The message names the profile, what failed and how to fix it.</summary>
public sealed class ClusterUnreachableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The profile as messages name it: its name and file.</summary>
    internal static string Where(ClusterProfile profile) => $"profile '{profile.Name}' ({profile.SourcePath})";

    /// <summary>Any failure to reach the cluster as the one exception the run reports (health problems pass through).</summary>
    internal static Exception From(Exception e, string where, CancellationToken ct) => e switch
    {
        ClusterUnreachableException or ClusterUnhealthyException => e,
        OperationCanceledException when ct.IsCancellationRequested => new ClusterUnreachableException(
            $"Infrastructure: {where}: gave up reaching the cluster (cancelled or out of time). " +
            "Check that the nodes are running and reachable, or pick another profile.", e),
        NodeAccessException or ProfileException => new ClusterUnreachableException(
            $"Infrastructure: {where}: {Secrets.Redact(e.Message)}", e),
        _ => new ClusterUnreachableException($"Infrastructure: {where}: {Secrets.Redact(e.Message)}", e),
    };
}
