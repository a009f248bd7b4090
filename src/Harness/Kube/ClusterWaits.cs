using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.Kube;

/// <summary>
/// The waits a check says in one line, as the book says its steps: <c>Pod("nginx-pod").Until(p =&gt; p.IsTerminating(),
/// "to show Terminating", timeout)</c>. What every wait of a check shares is filled in here: the API and the namespace,
/// how the watched objects read in a progress line or a timeout message (kubectl's words, <see cref="ObjectState"/>),
/// where progress goes and which token ends the wait. <see cref="ClusterWatch{T}.UntilAsync"/> stays the general form.
/// The hold periods ("nginx-pod stays Pending for 30 s") say <c>Stays</c>, on the same watch.
/// </summary>
public sealed class ClusterWaits
{
    private readonly Func<string?, string?, ClusterWatch<V1Pod>> _pods;
    private readonly Func<ClusterWatch<V1Node>> _nodes;
    private readonly Action<string>? _progress;
    private readonly CancellationToken _ct;

    /// <param name="ns">The namespace whose pods are watched; null for waits on nodes only.</param>
    /// <param name="progress">Receives "waiting for …: 12 s of 120 s (…)" every few seconds while a wait runs.</param>
    /// <param name="ct">Ends any wait at once (the check's deadline, Ctrl-C).</param>
    public ClusterWaits(IKubernetes api, string? ns, Action<string>? progress, CancellationToken ct)
        : this((labels, fields) => Watches.Pods(api, ns ?? throw new InvalidOperationException("these waits were made for nodes only: no namespace"),
            labels, fields), () => Watches.Nodes(api), progress, ct)
    {
    }

    /// <summary>For tests: pods and nodes watched by whatever the test scripts (see FakeApi in Harness.Tests).</summary>
    /// <param name="pods">Gets the label selector and the field selector of the pods to watch.</param>
    internal ClusterWaits(Func<string?, string?, ClusterWatch<V1Pod>> pods, Func<ClusterWatch<V1Node>> nodes,
        Action<string>? progress, CancellationToken ct)
    {
        _pods = pods;
        _nodes = nodes;
        _progress = progress;
        _ct = ct;
    }

    /// <summary>One pod by name (a field selector on its name, as <c>kubectl get pod NAME -w</c>).</summary>
    public ObjectWait<V1Pod> Pod(string name) => new(name, PodsWait(null, $"metadata.name={name}"));

    /// <summary>The namespace's pods, or those with <paramref name="labelSelector"/> (e.g. <c>app=nginx</c>).</summary>
    public ObjectsWait<V1Pod> Pods(string? labelSelector = null) => PodsWait(labelSelector, null);

    /// <summary>Pods read in kubectl's words; a pod the registry refused for its pull limit keeps saying so (<see cref="PullLimitMemory"/>),
    /// and a wait whose condition does not hold gives up as soon as a pod shows the pull limit (<see cref="PullLimits"/>).</summary>
    private ObjectsWait<V1Pod> PodsWait(string? labelSelector, string? fieldSelector)
    {
        var pullLimits = new PullLimitMemory();
        return new(_pods(labelSelector, fieldSelector), pullLimits.Describe, _progress, _ct, pullLimits.Observe, PullLimits);
    }

    /// <summary>The pull limit of every watched pod that is not on its way out (<see cref="ObjectState.PullLimit"/>), or null:
    /// the registry's limit lasts the hour, beyond any wait of a run, so a wait that needs the pod started cannot succeed.
    /// A terminating pod needs no image, so a wait for pods to go is not given up.</summary>
    public static string? PullLimits(IEnumerable<V1Pod> pods)
    {
        var limits = pods.Where(p => !p.IsTerminating()).OrderBy(p => p.Name()).Select(p => p.PullLimit()).OfType<string>().Distinct().ToList();
        return limits.Count == 0 ? null : string.Join("; ", limits);
    }

    /// <summary>One node; every node is watched, so the outcome (and a timeout message) shows them all, as <c>kubectl get nodes</c>.</summary>
    public ObjectWait<V1Node> Node(string name) => new(name, Nodes());

    public ObjectsWait<V1Node> Nodes() => new(_nodes(), ObjectState.Describe, _progress, _ct);
}

/// <summary>A wait on a set of objects, the condition seeing them all by name ("6 Ready pods", "the victim gone").</summary>
public sealed class ObjectsWait<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly ClusterWatch<T> _watch;
    private readonly Func<IEnumerable<T>, string> _describe;
    private readonly Action<string>? _progress;
    private readonly CancellationToken _ct;
    private readonly Action<IEnumerable<T>>? _observe;
    private readonly Func<IEnumerable<T>, string?>? _giveUpWhen;

    /// <param name="observe">Sees every state the wait sees, before the condition (e.g. remembering why a pod cannot pull).</param>
    /// <param name="giveUpWhen">A sentence when waiting longer cannot help (see <see cref="ClusterWatch{T}.UntilAsync"/>).</param>
    internal ObjectsWait(ClusterWatch<T> watch, Func<IEnumerable<T>, string> describe, Action<string>? progress, CancellationToken ct,
        Action<IEnumerable<T>>? observe = null, Func<IEnumerable<T>, string?>? giveUpWhen = null)
    {
        _watch = watch;
        _describe = describe;
        _progress = progress;
        _ct = ct;
        _observe = observe;
        _giveUpWhen = giveUpWhen;
    }

    /// <param name="awaited">What is awaited, in words, e.g. <c>6 Ready pods (app=nginx)</c>: the progress lines and a
    /// timeout's message say "waiting for" it.</param>
    /// <exception cref="WaitTimeoutException">The condition did not hold within <paramref name="timeout"/> (a failed expectation).</exception>
    /// <exception cref="WaitGaveUpException">The condition did not hold and cannot by waiting (for pods: the pull limit).</exception>
    public Task<WatchOutcome<T>> Until(Func<IReadOnlyDictionary<string, T>, bool> condition, string awaited, TimeSpan timeout) =>
        _watch.UntilAsync(_observe is null ? condition : objects =>
        {
            _observe(objects.Values);
            return condition(objects);
        }, awaited, timeout, objects => _describe(objects.Values), _progress, _ct,
            _giveUpWhen is null ? null : objects => _giveUpWhen(objects.Values));

    /// <summary>
    /// "Consistently" on the watch: <paramref name="holds"/> must stay true for the whole <paramref name="period"/>. The
    /// watch waits for the first state where it does not, and the period running out is the success.
    /// </summary>
    /// <param name="expected">The expectation in words, e.g. <c>no pod to replace echo-hname-1</c>.</param>
    /// <param name="because">Why it must hold, said when it does not.</param>
    /// <returns>The last state seen, in the words of a progress line (kubectl's for pods and nodes).</returns>
    /// <exception cref="HoldBrokenException">It stopped holding: thrown at once, naming what was seen then.</exception>
    public async Task<string> Stays(Func<IReadOnlyDictionary<string, T>, bool> holds, string expected, TimeSpan period, string? because = null)
    {
        WatchOutcome<T> changed;
        try { changed = await Until(objects => !holds(objects), expected, period); }
        catch (WaitTimeoutException held) { return held.LastState; }
        throw HoldBrokenException.Of(expected, period, changed.Elapsed, _describe(changed.Objects.Values), because);
    }
}

/// <summary>A wait on one named object: the condition sees that object, and only once it exists.</summary>
public sealed class ObjectWait<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly ObjectsWait<T> _objects;

    internal ObjectWait(string name, ObjectsWait<T> objects)
    {
        Name = name;
        _objects = objects;
    }

    public string Name { get; }

    /// <param name="toWhat">The rest of the sentence after the object's name: <c>to show Terminating</c> reads
    /// "nginx-pod to show Terminating"; <c>'s restart count to go up</c> reads "nginx-pod's restart count to go up".</param>
    public Task<WatchOutcome<T>> Until(Func<T, bool> condition, string toWhat, TimeSpan timeout) =>
        _objects.Until(objects => objects.TryGetValue(Name, out var item) && condition(item), Awaited(toWhat), timeout);

    /// <summary>Until the object is gone from the API (deleted, finalizers done): "nginx-pod to be deleted".</summary>
    public Task<WatchOutcome<T>> UntilGone(TimeSpan timeout) =>
        _objects.Until(objects => !objects.ContainsKey(Name), Awaited("to be deleted"), timeout);

    /// <summary>"Consistently" for the one object: <paramref name="holds"/> must stay true of it, and it must stay, for
    /// the whole <paramref name="period"/> (see <see cref="ObjectsWait{T}.Stays"/>).</summary>
    /// <param name="toWhat">As for <see cref="Until"/>: <c>to stay Terminating</c> reads "nginx-pod to stay Terminating".</param>
    public Task<string> Stays(Func<T, bool> holds, string toWhat, TimeSpan period, string? because = null) =>
        _objects.Stays(objects => objects.TryGetValue(Name, out var item) && holds(item), Awaited(toWhat), period, because);

    private string Awaited(string toWhat) => toWhat.StartsWith('\'') ? Name + toWhat : $"{Name} {toWhat}";
}
