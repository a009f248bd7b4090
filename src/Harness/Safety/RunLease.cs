using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Harness.Safety;

/// <summary>Another run holds the cluster. The message names the holder and since when.</summary>
public sealed class ClusterBusyException(string message) : Exception(message);

/// <summary>
/// One run per cluster: a coordination.k8s.io/v1 Lease held and renewed while the suite runs. A second run refuses
/// at once; a lease whose holder died expires after its duration and is taken over.
/// </summary>
public sealed class RunLease : IAsyncDisposable
{
    public const string Name = "verification-run";
    private readonly IKubernetes _api;
    private readonly string _ns;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;

    private RunLease(IKubernetes api, string ns, string holder, int seconds)
    {
        _api = api;
        _ns = ns;
        Holder = holder;
        _renewing = RenewAsync(TimeSpan.FromSeconds(Math.Max(1, seconds / 3)));
    }

    public string Holder { get; }

    public static async Task<RunLease> AcquireAsync(IKubernetes api, string ns, string holder, int seconds, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        V1Lease? existing = null;
        try { existing = await api.CoordinationV1.ReadNamespacedLeaseAsync(Name, ns, cancellationToken: ct); }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { }

        var spec = new V1LeaseSpec { HolderIdentity = holder, LeaseDurationSeconds = seconds, AcquireTime = now, RenewTime = now };
        try
        {
            if (existing is null)
                await api.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = Name }, Spec = spec }, ns, cancellationToken: ct);
            else
            {
                var s = existing.Spec;
                var expires = (s.RenewTime ?? s.AcquireTime ?? DateTime.MinValue).AddSeconds(s.LeaseDurationSeconds ?? 0);
                if (!string.IsNullOrEmpty(s.HolderIdentity) && expires > now && !HolderIsDeadHere(s.HolderIdentity))
                    throw Busy(s, expires);
                existing.Spec = spec; // resourceVersion kept: if another run takes it meanwhile, this replace fails with 409
                await api.CoordinationV1.ReplaceNamespacedLeaseAsync(existing, Name, ns, cancellationToken: ct);
            }
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            var winner = await api.CoordinationV1.ReadNamespacedLeaseAsync(Name, ns, cancellationToken: ct);
            throw Busy(winner.Spec, (winner.Spec.RenewTime ?? now).AddSeconds(winner.Spec.LeaseDurationSeconds ?? 0));
        }
        return new RunLease(api, ns, holder, seconds);
    }

    /// <summary>
    /// A holder on this machine whose process is gone (killed, crashed) cannot renew: take over at once instead of
    /// waiting out its lease. Holders elsewhere are trusted until their lease expires.
    /// </summary>
    private static bool HolderIsDeadHere(string holder)
    {
        var parts = holder.Split('/');
        if (parts.Length < 2 || parts[0] != Environment.MachineName || !parts[1].StartsWith("pid ", StringComparison.Ordinal)) return false;
        if (!int.TryParse(parts[1][4..], out var pid)) return false;
        try { using var process = System.Diagnostics.Process.GetProcessById(pid); return process.HasExited; }
        catch (ArgumentException) { return true; } // no such process
    }

    private static ClusterBusyException Busy(V1LeaseSpec s, DateTime expires) => new(
        $"Another verification run holds this cluster: {s.HolderIdentity}, since {s.AcquireTime:yyyy-MM-dd HH:mm:ss} UTC " +
        $"(lease {Name}, renewed {s.RenewTime:HH:mm:ss}). Wait for it to finish; if that run is dead, its lease expires at {expires:HH:mm:ss} UTC.");

    private async Task RenewAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    var lease = await _api.CoordinationV1.ReadNamespacedLeaseAsync(Name, _ns, cancellationToken: _stop.Token);
                    if (lease.Spec.HolderIdentity != Holder) return; // taken over: nothing of ours to renew
                    lease.Spec.RenewTime = DateTime.UtcNow;
                    await _api.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, Name, _ns, cancellationToken: _stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException) { /* try again next tick */ }
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewing;
        try
        {
            var lease = await _api.CoordinationV1.ReadNamespacedLeaseAsync(Name, _ns);
            if (lease.Spec.HolderIdentity == Holder) await _api.CoordinationV1.DeleteNamespacedLeaseAsync(Name, _ns);
        }
        catch (HttpOperationException) { }
        _stop.Dispose();
    }
}
