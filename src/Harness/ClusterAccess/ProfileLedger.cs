using Harness.Faults;
using Harness.Nodes;
using Harness.Profiles;

namespace Harness.ClusterAccess;

/// <summary>
/// The fault ledger a profile names, for commands that do not connect to the cluster otherwise (<c>./verify heal
/// --list/--forget</c>, the gate): a local file needs nothing; with <c>safety.ledger: controlPlane</c> this logs in to
/// the control plane alone (discovery, SSH, no API) and logs out when disposed.
/// </summary>
public sealed class ProfileLedger : IAsyncDisposable
{
    private readonly NodeShell? _controlPlane;

    private ProfileLedger(FaultLedger ledger, NodeShell? controlPlane)
    {
        Ledger = ledger;
        _controlPlane = controlPlane;
    }

    public FaultLedger Ledger { get; }

    /// <param name="typedPath">A ledger file named on the command line: it wins over the profile's ledger.</param>
    /// <exception cref="ClusterUnreachableException">The ledger is on the control plane and it could not be reached.</exception>
    public static async Task<ProfileLedger> OpenAsync(ClusterProfile profile, string? typedPath, CancellationToken ct)
    {
        if (typedPath is not null) return new ProfileLedger(new FaultLedger(typedPath), null);
        if (profile.Safety.Ledger != SafetySettings.ControlPlaneLedger) return new ProfileLedger(FaultLedger.For(profile, null), null);
        try
        {
            var (endpoints, discovered) = await NodeDiscovery.DiscoverAsync(profile, ct);
            var endpoint = endpoints.FirstOrDefault(e => e.Name == discovered.ControlPlane)
                           ?? throw new NodeAccessException($"discovery found no node '{discovered.ControlPlane}' (controlPlane), which holds the fault ledger");
            var shell = await NodeShell.ConnectAsync(endpoint, new HostKeyStore(profile.ResolvePath(profile.Login.KnownHostsFile)),
                profile.Timeouts.ToTimeouts().Connect, ct);
            return new ProfileLedger(FaultLedger.For(discovered, shell), shell);
        }
        catch (Exception e)
        {
            throw ClusterUnreachableException.From(e, $"{ClusterUnreachableException.Where(profile)}, whose fault ledger is on the control plane " +
                                                      $"(safety.ledger: controlPlane)", ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_controlPlane is not null) await _controlPlane.DisposeAsync();
    }
}
