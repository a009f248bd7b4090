namespace Harness.Profiles;

/// <summary>Which nodes the node settings may name: fault targets are workers, never the control plane.</summary>
public static class ProfileNodes
{
    /// <summary>
    /// Problems of <c>workers</c> and <c>faultTargets</c> against the nodes the profile has. With Vagrant discovery and
    /// no <c>workers</c> listed the workers are not known yet: then only the control plane is refused as a target, and
    /// the rest waits for <see cref="EnsureDiscovered"/>.
    /// </summary>
    /// <param name="nodesOf">"profile" on loading, "cluster" after discovery (as the message says where the nodes came from).</param>
    public static IEnumerable<string> Problems(ClusterProfile profile, string nodesOf)
    {
        var workersKnown = profile.Workers.Count > 0;
        var workers = workersKnown ? string.Join(", ", profile.Workers) : "the Vagrantfile's machines besides the control plane";
        if (profile.Workers.Contains(profile.ControlPlane))
            yield return $"'workers' names {profile.ControlPlane}, the control plane ('controlPlane'); list the worker nodes only";
        foreach (var target in profile.FaultTargets.Distinct())
        {
            // The control plane's components are stopped through components.stoppable (FaultPolicy.EnsureComponent),
            // never as a node fault: a kubelet stopped or a network broken there takes the API with it.
            if (target == profile.ControlPlane)
                yield return $"fault target '{target}' is the control plane; 'faultTargets' takes workers only ({workers}); " +
                             "control-plane components are stopped through 'components.stoppable'";
            else if (workersKnown && !profile.Workers.Contains(target))
                yield return $"fault target '{target}' is not a node of this {nodesOf} ({string.Join(", ", profile.AllNodes)}); " +
                             $"'faultTargets' takes workers only ({workers})";
        }
    }

    /// <summary>Right after discovery, before any login: the node settings against the nodes found.</summary>
    public static void EnsureDiscovered(ClusterProfile profile)
    {
        var problems = Problems(profile, "cluster").ToList();
        if (problems.Count > 0) throw Refused(profile, problems);
    }

    /// <summary>The node settings refuted by what discovery found, as one <see cref="ProfileException"/>.</summary>
    public static ProfileException Refused(ClusterProfile profile, IEnumerable<string> problems) =>
        new($"Profile {profile.SourcePath} cannot be used: {string.Join("; ", problems.Select(p => p.TrimEnd('.')))}.") { IsNodeSetting = true };
}
