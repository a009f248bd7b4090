using System.Diagnostics;
using System.Runtime.InteropServices;
using Harness.Checks;
using Harness.ClusterAccess;
using Harness.Diagnosis;
using Harness.Faults;
using Harness.Kube;
using Harness.NUnitAdapter;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Safety;
using Harness.Text;
using NUnit.Framework;

[assembly: AllureNUnit]
[assembly: WaitTimeoutIsAFailure]
// Checks run side by side, each waiting for the nodes it touches (ClusterCheck.ClaimOf, Harness.Checks.ClaimBoard);
// one fixture instance per check, since a fixture holds the context of the check it runs. ./verify --sequential sets
// NUnit.NumberOfTestWorkers=0: one check at a time, in the catalogue's order ([Order]); and the run parameter
// runMode=sequential, from which the run record takes its mode (RunMode).
[assembly: Parallelizable(ParallelScope.Children)]
[assembly: FixtureLifeCycle(LifeCycle.InstancePerTestCase)]

namespace Verification;

/// <summary>
/// Once per run, before any check: load the profile, reach the nodes (30 s budget), heal the control-plane faults an
/// earlier run left that keep the API away (over SSH), reach the API, take the run lease, heal the other faults left
/// by an earlier run, and check the cluster is healthy. Any failure here stops the suite with one
/// message and nothing injected. What the checks share is <see cref="Run"/>; each check makes its own
/// <see cref="CheckContext"/> from it (<see cref="ClusterCheck"/>).
/// </summary>
/// <remarks>
/// The static fields below are the only state of the suite outside a check, and static because NUnit forces it: it
/// makes this class and every check fixture separately, with no way to hand one an object of the other, and runs
/// OneTimeSetUp/OneTimeTearDown on an instance of its own. They are run-level by nature: <see cref="Run"/> (the
/// shared cluster, ledger, policy, metrics, namespace, Blocked), the report folder and metrics needed before the
/// cluster answers (<c>_results</c>, <c>_metrics</c>), and the process's lifecycle: the interruption and its signal
/// handlers (<c>Interrupted</c>, <c>Signals</c>, <c>_interruptedBy</c>), the run lock and Lease (<c>_localLock</c>,
/// <c>_lease</c>), the cluster to disconnect at the end even if set-up failed before <see cref="Run"/> existed
/// (<c>_cluster</c>), and whether the run record is closed (<c>_ended</c>).
/// </remarks>
[SetUpFixture]
public sealed class Suite
{
    private static readonly CancellationTokenSource Interrupted = new();
    private static RunLease? _lease;
    private static LocalRunLock? _localLock;
    private static readonly List<PosixSignalRegistration> Signals = [];
    private static string? _interruptedBy;
    private static bool _ended;
    private static Cluster? _cluster;
    private static RunMetrics _metrics = null!;
    private static AllureWriter _results = null!;

    /// <summary>What every check of this run shares; set by OneTimeSetUp before the first check.</summary>
    public static RunContext Run { get; private set; } = null!;

    public static string RunId { get; } = $"{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Environment.ProcessId}";

    /// <summary>Who holds the cluster while this run goes on, as the lock file and the Lease name it.</summary>
    private static string Holder => $"{Environment.MachineName}/pid {Environment.ProcessId}/run {RunId}";

    /// <summary>The signal that interrupted this run (SIGINT, SIGTERM), if one did.</summary>
    public static string? InterruptedBy => _interruptedBy;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var clock = Stopwatch.StartNew();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            Signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // keep the process alive long enough to revert
                NUnitProgress.Write($"{signal}: cancelling the running check; its faults are being reverted");
                _interruptedBy = signal.ToString();
                Interrupted.Cancel();
            }));

        // One run at a time on this machine, before anything is written: a second run must not wipe the results
        // folder or add a record while the first one is running. It only says so (the holder's report stands).
        var lockFile = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "verification",
            $"run-{ProfileLoader.NameOf(RequestedProfile)}.lock");
        try { _localLock = LocalRunLock.Acquire(lockFile, Holder); }
        catch (ClusterBusyException e)
        {
            var refused = $"{e.Message} (refused {clock.Elapsed.TotalSeconds:0.0} s after the run started; nothing was injected, and the running run's report and record are left alone)";
            NUnitProgress.Write(refused);
            _ended = true; // this run never started: no record to close either
            throw new ClusterBusyException(refused);
        }

        // Then, before anything else can fail: a fresh results folder and a run record, so every way this run ends
        // leaves a report and a line the gate reads, even when the profile is bad or the cluster never answers.
        var root = AllureResults.RepositoryRoot() ?? Directory.GetCurrentDirectory();
        _metrics = new RunMetrics(TestContext.Parameters.Get("metrics", Path.Combine(root, "reports", "metrics.jsonl")), RunId, ProfileLoader.NameOf(RequestedProfile));
        _results = AllureNUnitAttribute.RunResults();
        AllureResults.StartRun(_results, new Dictionary<string, string> { ["profile"] = RequestedProfile, ["run"] = RunId });
        if (IsVerificationRun) _metrics.RunStarted(FullRunChecks(), RunMode);
        try
        {
            await PrepareAsync(root, clock);
        }
        catch (Exception e)
        {
            // An API that failed or hung once the cluster was reached is explained from the control plane, not passed on as a bare timeout.
            var stop = await ExplainAsync(e);
            await RecordStopAsync(stop, clock.Elapsed);
            if (NUnitOutcomes.AsAssertion(stop) is { } failure) throw failure; // a timed-out wait fails, as it always did
            // A verdict on the cluster or the input is its message: no stack trace of the harness's under it.
            if (stop is ClusterUnhealthyException or ClusterUnreachableException or ProfileException or ClusterBusyException or UnrevertedFaultException
                or LedgerUnavailableException)
                throw new RunStoppedException(stop);
            throw;
        }
    }

    /// <summary><paramref name="e"/>, or when it is an API call that failed or hung, what the control plane shows (etcd away, …).</summary>
    private static async Task<Exception> ExplainAsync(Exception e)
    {
        if (e is ClusterUnhealthyException || _cluster is null || Interrupted.IsCancellationRequested) return e;
        try { return await Preflight.ExplainApiFailureAsync(_cluster, e, Interrupted.Token) ?? e; }
        catch (Exception) { return e; } // the look itself failed (SSH gone too): the original error says what happened
    }

    /// <summary>Profile, cluster, lease, healing and preflight: everything before the first check.</summary>
    private static async Task PrepareAsync(string root, Stopwatch clock)
    {
        var profile = LoadProfile(root);
        var manifests = new Harness.Kube.Manifests(Path.Combine(root, "fixtures", "manifests"));

        // Discovery (a vagrant command), SSH to every node, the kubeconfig, and then the API: 30 s each on an idle
        // machine is plenty, but a loaded one can need more, and "unreachable" must not be a false alarm.
        var connectBudget = TimeSpan.FromSeconds(Math.Max(30, 3 * profile.Timeouts.ToTimeouts().Connect.TotalSeconds));
        NodeAccess nodes;
        using (var budget = CancellationTokenSource.CreateLinkedTokenSource(Interrupted.Token))
        {
            budget.CancelAfter(connectBudget);
            nodes = await NodeAccess.ConnectAsync(profile, NUnitProgress.Write, budget.Token);
        }
        profile = nodes.Profile; // with the workers discovery found
        // The ledger on this machine, or with safety.ledger: controlPlane on the control plane, read over the SSH just
        // made (no API needed): the pass below heals from it before the API answers.
        var ledger = FaultLedger.For(profile, nodes.ControlPlane);

        // A run killed while a control-plane component was stopped (the API server's manifest away) left a cluster
        // nothing can reach through the API: put such faults right over SSH first. Its own deadline (the component's
        // restart), not the connect budget. Everything that needs the API is healed below, once the Lease is held.
        var controlPlaneHealed = false;
        if (!profile.Safety.DryRun)
        {
            try
            {
                var pass = await Healing.HealBeforeApiAsync(nodes, ledger, profile.Name, nodes.CaFingerprint, NUnitProgress.Write, Interrupted.Token);
                HealingReport.Write(pass, _results);
                pass.ThrowIfUnhealed();
                // etcd put back: the API server may still be in kubelet's back-off; give it its restart time, not the connect budget.
                controlPlaneHealed = pass.Healed.Any(e => e.Revert.Kind == RevertKind.RestoreStaticPodManifest);
                if (controlPlaneHealed)
                    await nodes.WaitForApiServerAsync(Interrupted.Token);
            }
            catch
            {
                await nodes.DisposeAsync();
                throw;
            }
        }

        Cluster cluster;
        using (var budget = CancellationTokenSource.CreateLinkedTokenSource(Interrupted.Token))
        {
            budget.CancelAfter(connectBudget);
            cluster = _cluster = await Cluster.ConnectAsync(nodes, NUnitProgress.Write, budget.Token);
        }
        if (controlPlaneHealed)
        {
            // The scheduler and controller-manager lost their leases while the API server or etcd was away and restart
            // now: the cluster is judged once its control plane has settled, as a control-plane check waits at its end.
            // Not settled by the deadline: the preflight below names what is still wrong.
            await ComponentHealth.UntilControlPlaneSettledAsync(cluster,
                problem => NUnitProgress.Write($"control plane after healing: {problem}"), Interrupted.Token);
        }
        _metrics.KubernetesVersion = cluster.ServerVersion;
        // Whose cluster this is (profile + kube-system UID): ledger entries carry it, and the run record, so the gate
        // judges this run only against earlier runs of the same cluster.
        var identity = await ClusterIdentity.ReadAsync(cluster.Api, cluster.Profile, cluster.CaFingerprint, Interrupted.Token);
        var environment = await EnvironmentFacts.ReadAsync(cluster.Api, cluster.Profile, cluster.ServerVersion, Interrupted.Token);
        if (IsVerificationRun)
            _metrics.RunVersions(cluster.ServerVersion, environment["kubelet"], environment.TryGetValue("container.runtime", out var runtimes) ? runtimes : null,
                identity.ClusterUid);
        environment["run"] = RunId;
        environment["cni"] = profile.Cni;
        AllureResults.WriteEnvironment(_results, environment);

        var policy = new FaultPolicy(profile.FaultTargets.ToHashSet(), profile.Safety.DryRun,
            profile.Components.Stoppable.ToHashSet(), profile.ControlPlane);
        RunContext MakeRun(ClusterIdentity? identity) => new()
        {
            Cluster = cluster, Ledger = ledger, Policy = policy, RunId = RunId, Identity = identity, Metrics = _metrics,
            Progress = NUnitProgress.Write, Interrupted = Interrupted.Token, Namespace = profile.Kubernetes.Namespace, Manifests = manifests,
        };
        if (profile.Safety.DryRun)
        {
            // A dry run changes nothing: no lease, no healing, no preflight pods; each check lists its faults.
            var open = ledger.OpenEntries();
            NUnitProgress.Write(open.Count == 0 ? "dry run: the ledger has no open fault"
                : $"dry run: a real run would first heal {string.Join("; ", open.Select(e => $"{e.Fault} on {e.Node} ({e.Revert})"))}");
            Run = MakeRun(identity: null);
            return;
        }

        var reached = clock.Elapsed;
        try
        {
            _lease = await RunLease.AcquireAsync(cluster.Api, profile.Safety.LeaseNamespace, Holder, profile.Safety.LeaseSeconds, Interrupted.Token);
        }
        catch (ClusterBusyException e)
        {
            throw new ClusterBusyException($"{e.Message} (refused {(clock.Elapsed - reached).TotalSeconds:0.0} s after reaching the cluster, " +
                                           $"{clock.Elapsed.TotalSeconds:0.0} s after the run started; nothing was injected)");
        }
        var healing = await Healing.HealAsync(cluster, ledger, identity, NUnitProgress.Write, Interrupted.Token);
        HealingReport.Write(healing, _results);
        healing.ThrowIfUnhealed();

        var infeasible = await FaultFeasibility.CheckAsync(cluster, Interrupted.Token);
        if (infeasible.Count > 0)
            throw new ProfileException($"Preflight: profile '{profile.Name}' ({profile.SourcePath}) has faults this cluster cannot make or undo, so none was injected: {string.Join("; ", infeasible)}.");

        IReadOnlyList<string> problems;
        await using (var preflight = new FaultScope(ledger, cluster, policy with { DryRun = false }, RunId, "preflight", NUnitProgress.Write, identity))
            problems = await Preflight.CheckAsync(cluster, profile.Kubernetes.Namespace, manifests, preflight, PreflightSettle, Interrupted.Token);
        if (problems.Count > 0) throw new ClusterUnhealthyException(profile.Name, problems);
        Run = MakeRun(identity);
        NUnitProgress.Write($"preflight passed in {clock.Elapsed.TotalSeconds:0.0} s: {cluster.ServerVersion}; nodes {string.Join(", ", profile.AllNodes)} Ready with kubelet active; " +
                        $"control plane, kube-system DaemonSets and pods on every worker healthy");
    }

    /// <summary>How long kube-system's pods may take to become Ready at the start: short, so a broken cluster is named within 30 s.</summary>
    private static readonly TimeSpan PreflightSettle = TimeSpan.FromSeconds(15);

    /// <summary>The run stopped before its checks: one result saying why (the report is never empty) and the run record.</summary>
    private static async Task RecordStopAsync(Exception e, TimeSpan after)
    {
        var (name, status) = e switch
        {
            ClusterUnhealthyException => ("Cluster health", Status.Failed),
            ProfileException => ("Bad input", Status.Broken),
            ClusterUnreachableException => ("Cluster unreachable", Status.Broken),
            ClusterBusyException => ("Cluster busy", Status.Broken),
            UnrevertedFaultException => ("Faults left by an earlier run", Status.Broken),
            LedgerUnavailableException => ("Fault ledger unavailable", Status.Broken),
            OperationCanceledException when _interruptedBy is not null => ("Run interrupted", Status.Broken),
            _ => ("Run stopped", Status.Broken),
        };
        var outcome = _interruptedBy is null ? "stopped" : "interrupted";
        var message = e is ClusterUnhealthyException
            ? e.Message
            : $"Run stopped: {(_interruptedBy is null ? "" : $"{_interruptedBy} during set-up: ")}{Secrets.Redact(e.Message)}";
        message += $" (after {after.TotalSeconds:0.0} s; no check ran)";
        NUnitProgress.Write(message);
        List<KeyValuePair<string, string>>? attachments = null;
        if (e is ClusterUnhealthyException health)
        {
            // What was read to name the problems: the exception's own look, else one now (bounded: the run is over).
            var evidence = health.Evidence() ?? (_cluster is null ? null : await Preflight.EvidenceAsync(_cluster, health.Problems(), TimeSpan.FromSeconds(30)));
            attachments = [new("what is broken, one line each", string.Join("\n", health.Problems()))];
            if (evidence is not null) attachments.Add(new("what was read on the cluster (containers, /readyz, etcd health, node conditions, kubelet journal)", evidence));
        }
        Report.WriteStandaloneResult(name, $"Verification:Suite.{name.Replace(' ', '-')}", status, _results, message,
            textAttachments: attachments,
            labels: [new Label(AllureLabels.Suite, "Run"), new Label(AllureLabels.Tag, "run")]);
        if (IsVerificationRun) _metrics.RunEnded(outcome, message);
        _ended = true;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (!_ended && IsVerificationRun)
        {
            if (_interruptedBy is { } signal)
            {
                var message = $"Run interrupted by {signal}: the running check was cancelled and its faults reverted; the checks after it did not run.";
                Report.WriteStandaloneResult("Run interrupted", "Verification:Suite.Run-interrupted", Status.Broken, _results, message,
                    labels: [new Label(AllureLabels.Suite, "Run"), new Label(AllureLabels.Tag, "run")]);
                _metrics.RunEnded("interrupted", message);
            }
            else _metrics.RunEnded("completed", null);
            _ended = true;
        }
        if (_lease is not null) await _lease.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
        _localLock?.Dispose();
        foreach (var signal in Signals) signal.Dispose();
    }

    /// <summary>
    /// The checks a full run has: every [Test] of every check fixture in this assembly (the heal command is not a
    /// check). Derived from the suite itself, so the gate can say which checks a partial run left out.
    /// </summary>
    public static IReadOnlyList<string> FullRunChecks() =>
        typeof(Suite).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsSubclassOf(typeof(ClusterCheck)))
            .SelectMany(t => t.GetMethods().Where(m => m.GetCustomAttributes(typeof(TestAttribute), true).Length > 0))
            .Select(m => m.Name).Distinct().Order().ToList();

    /// <summary>How this run schedules its checks, for the run record: as its run parameter runMode says (<see cref="RunModes.Parameter"/>).</summary>
    private static string RunMode => RunModes.FromParameter(TestContext.Parameters.Get(RunModes.Parameter)) ?? RunModes.SideBySide;

    /// <summary>False for `./verify heal` (run parameter runKind=heal): it runs no check, so the gate must not judge it.</summary>
    private static bool IsVerificationRun => TestContext.Parameters.Get("runKind", "verification") != "heal";

    private static string RequestedProfile =>
        TestContext.Parameters.Get("profile", Environment.GetEnvironmentVariable("VERIFICATION_PROFILE") ?? "lab");

    private static ClusterProfile LoadProfile(string root)
    {
        var parameters = TestContext.Parameters;
        var name = RequestedProfile;
        // Every other run parameter overrides a profile setting by its dotted name, e.g. login.user=vagrant or workers=w1-k8s,w2-k8s.
        string[] harnessParameters = ["profile", "allureResults", "metrics", "runKind", RunModes.Parameter];
        if (RunModes.FromParameter(parameters.Get(RunModes.Parameter)) is null)
            throw new ProfileException($"Run parameter {RunModes.Parameter} is '{parameters.Get(RunModes.Parameter)}': give side-by-side or sequential (./verify --sequential passes sequential).");
        var overrides = parameters.Names.Except(harnessParameters).ToDictionary(n => n, n => parameters[n]!);
        return ProfileLoader.Load(name, Path.Combine(root, "fixtures", "profiles"), overrides);
    }
}

/// <summary>
/// The run stopped with a verdict on the cluster or on the input (unhealthy, unreachable, busy, bad input, a fault left
/// unreverted): its message is the whole story, so NUnit prints it without the harness's stack trace under it.
/// </summary>
public sealed class RunStoppedException(Exception verdict) : Exception(verdict.Message)
{
    public override string? StackTrace => null;
}
