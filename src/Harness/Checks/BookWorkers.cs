using Harness.Profiles;

namespace Harness.Checks;

/// <summary>
/// The book's workers as the profile has them: w1-k8s (<see cref="First"/>, its node faults), w2-k8s
/// (<see cref="Second"/>, its br_netfilter node), w3-k8s (<see cref="Last"/>, its kubelet, cordon and drain node), each
/// among the workers the profile lets the checks break (<c>faultTargets</c>); and the book's replica counts, per worker.
/// </summary>
public sealed class BookWorkers
{
    private readonly ClusterProfile _profile;
    private readonly IReadOnlyList<string> _targets;

    private BookWorkers(ClusterProfile profile)
    {
        _profile = profile;
        _targets = profile.Workers.Where(profile.FaultTargets.Contains).ToList();
    }

    /// <summary>Known before a check has a context (e.g. to say it is not applicable on a node).</summary>
    public static BookWorkers Of(ClusterProfile profile) => new(profile);

    /// <summary>The book's w1-k8s: the first worker that is a fault target.</summary>
    public string First => _targets.Count > 0 ? _targets[0] : throw NoTarget();

    /// <summary>The book's w2-k8s: the second worker that is a fault target, or the only one.</summary>
    public string Second => _targets.Count > 0 ? _targets[Math.Min(1, _targets.Count - 1)] : throw NoTarget();

    /// <summary>The book's w3-k8s: the last worker that is a fault target.</summary>
    public string Last => _targets.Count > 0 ? _targets[^1] : throw NoTarget();

    /// <summary>Every worker: where the scheduler may put a Deployment's pods.</summary>
    public IReadOnlyList<string> All => _profile.Workers;

    /// <summary>The book's 3 replicas on its three workers: one pod per worker.</summary>
    public int OnePodEach => _profile.Workers.Count;

    /// <summary>The book's 9 replicas on its three workers: three pods per worker (6 on two workers, 12 on four).</summary>
    public int ThreePodsEach => 3 * _profile.Workers.Count;

    /// <summary>A command at a node's prompt, as the book shows it: <c>[w1-k8s]$ systemctl stop kubelet</c>.</summary>
    public static string Prompt(string node, string command) => $"[{node}]$ {command}";

    private InvalidOperationException NoTarget() =>
        new($"Profile '{_profile.Name}' marks no worker as a fault target ('faultTargets').");
}
