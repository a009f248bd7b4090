using System.Diagnostics;
using System.Runtime.InteropServices;
using Harness;
using Harness.Faults;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Safety;
using NUnit.Framework;

[assembly: AllureNUnit]
[assembly: NonParallelizable]

namespace Verification;

/// <summary>
/// Once per run, before any check: load the profile, reach the cluster (30 s budget), take the run lease, heal
/// faults left by an earlier run, and check the cluster is healthy. Any failure here stops the suite with one
/// message and nothing injected.
/// </summary>
[SetUpFixture]
public sealed class Suite
{
    private static readonly CancellationTokenSource Interrupted = new();
    private static RunLease? _lease;
    private static LocalRunLock? _localLock;
    private static readonly List<PosixSignalRegistration> Signals = [];

    public static Cluster Cluster { get; private set; } = null!;
    public static FaultLedger Ledger { get; private set; } = null!;
    public static FaultPolicy Policy { get; private set; } = null!;
    public static string RunId { get; } = $"{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Environment.ProcessId}";

    /// <summary>Ctrl-C or SIGTERM: checks stop where they are and their reverts run.</summary>
    public static CancellationToken Cancellation => Interrupted.Token;

    /// <summary>Set when a check left the cluster not as it found it: the following checks report that instead of failing one after another.</summary>
    public static string? Blocked { get; set; }

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var clock = Stopwatch.StartNew();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            Signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // keep the process alive long enough to revert
                Report.Progress($"{signal}: cancelling the running check; its faults are being reverted");
                Interrupted.Cancel();
            }));

        var root = AllureResults.RepositoryRoot() ?? Directory.GetCurrentDirectory();
        var profile = LoadProfile(root);
        Metrics.FilePath = TestContext.Parameters.Get("metrics", Path.Combine(root, "reports", "metrics.jsonl"));
        Harness.Kube.Manifests.Directory = Path.Combine(root, "fixtures", "manifests");
        Metrics.RunId = RunId;
        Metrics.Profile = profile.Name;

        var holder = $"{Environment.MachineName}/pid {Environment.ProcessId}/run {RunId}";
        if (!profile.Safety.DryRun)
        {
            try { _localLock = LocalRunLock.Acquire(profile.ResolvePath($"~/.cache/verification/run-{profile.Name}.lock"), holder); }
            catch (ClusterBusyException e)
            {
                var refused = $"{e.Message} (refused {clock.Elapsed.TotalSeconds:0.0} s after the run started; nothing was injected)";
                Report.Progress(refused);
                throw new ClusterBusyException(refused);
            }
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(Interrupted.Token);
        budget.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            Cluster = await Cluster.ConnectAsync(profile, Report.Progress, budget.Token);
        }
        catch (ClusterUnreachableException e)
        {
            AllureResults.StartRun(new Dictionary<string, string> { ["profile"] = profile.Name });
            Report.Progress($"{e.Message} ({clock.Elapsed.TotalSeconds:0.0} s; nothing was injected)");
            throw;
        }
        Metrics.KubernetesVersion = Cluster.ServerVersion;
        var environment = await Cluster.DescribeEnvironmentAsync(Interrupted.Token);
        environment["run"] = RunId;
        environment["cni"] = profile.Cni;
        AllureResults.StartRun(environment);

        Ledger = new FaultLedger(profile.ResolvePath(profile.Safety.LedgerFile));
        Policy = new FaultPolicy(profile.FaultTargets.ToHashSet(), profile.Safety.DryRun);
        if (profile.Safety.DryRun)
        {
            // A dry run changes nothing: no lease, no healing, no preflight pods; each check lists its faults.
            var open = Ledger.OpenEntries();
            Report.Progress(open.Count == 0 ? "dry run: the ledger has no open fault"
                : $"dry run: a real run would first heal {string.Join("; ", open.Select(e => $"{e.Fault} on {e.Node} ({e.Revert})"))}");
            return;
        }

        var reached = clock.Elapsed;
        try
        {
            _lease = await RunLease.AcquireAsync(Cluster.Api, profile.Safety.LeaseNamespace, holder, profile.Safety.LeaseSeconds, Interrupted.Token);
        }
        catch (ClusterBusyException e)
        {
            var refused = $"{e.Message} (refused {(clock.Elapsed - reached).TotalSeconds:0.0} s after reaching the cluster, " +
                          $"{clock.Elapsed.TotalSeconds:0.0} s after the run started; nothing was injected)";
            Report.Progress(refused);
            throw new ClusterBusyException(refused);
        }
        await Healing.HealAsync(Cluster, Ledger, Interrupted.Token);

        IReadOnlyList<string> problems;
        await using (var preflight = new FaultScope(Ledger, Cluster, Policy with { DryRun = false }, RunId, "preflight", Report.Progress))
            problems = await Preflight.CheckAsync(Cluster, preflight, Interrupted.Token);
        if (problems.Count > 0)
            throw new InvalidOperationException(
                $"Preflight: profile '{profile.Name}': the cluster is not ready for faults, so none was injected: {string.Join("; ", problems)}.");
        Report.Progress($"preflight passed: {Cluster.ServerVersion}; nodes {string.Join(", ", profile.AllNodes)} Ready with kubelet active; " +
                        $"pods on every worker answer curl from {profile.ControlPlane}");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_lease is not null) await _lease.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        _localLock?.Dispose();
        foreach (var signal in Signals) signal.Dispose();
    }

    private static ClusterProfile LoadProfile(string root)
    {
        var parameters = TestContext.Parameters;
        var name = parameters.Get("profile", Environment.GetEnvironmentVariable("VERIFICATION_PROFILE") ?? "lab");
        // Every other run parameter overrides a profile setting by its dotted name, e.g. login.user=vagrant or workers=w1-k8s,w2-k8s.
        string[] harnessParameters = ["profile", "allureResults", "metrics"];
        var overrides = parameters.Names.Except(harnessParameters).ToDictionary(n => n, n => parameters[n]!);
        return ProfileLoader.Load(name, Path.Combine(root, "fixtures", "profiles"), overrides);
    }
}
