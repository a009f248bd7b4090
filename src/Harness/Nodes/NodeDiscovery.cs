using Harness.Profiles;

namespace Harness.Nodes;

/// <summary>
/// Turns a profile into SSH endpoints: from <c>vagrant ssh-config</c> in the profile's Vagrant directory, or from the
/// profile's static host list; then applies the profile's login settings (user, key, password variable) on top.
/// </summary>
public static class NodeDiscovery
{
    /// <summary>The nodes' endpoints, and the profile with its workers filled in where discovery finds them.</summary>
    public static async Task<(IReadOnlyList<NodeEndpoint> Endpoints, ClusterProfile Profile)> DiscoverAsync(ClusterProfile profile, CancellationToken ct)
    {
        IReadOnlyList<NodeEndpoint> found;
        if (profile.Discovery.Mode == "vagrant")
        {
            var directory = profile.ResolvePath(profile.Discovery.VagrantDirectory);
            var environment = profile.Discovery.VagrantEnvironment.ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
            var hosts = await new VagrantDiscovery(directory, environment).DiscoverAsync(ct);
            var pattern = profile.Discovery.MachineNames;
            found = hosts.Select(h => h.ToEndpoint(origin: $"vagrant ssh-config in {directory}"))
                .Select(e => NodeName(pattern, e.Name) is { } node ? e with { Name = node, Origin = $"machine {e.Name} of {e.Origin}" } : null)
                .OfType<NodeEndpoint>().ToList();
            var machines = string.Join(", ", hosts.Select(h => h.Name));
            if (found.All(e => e.Name != profile.ControlPlane))
                throw ProfileNodes.Refused(profile, [
                    $"Vagrant in {directory} has no machine for the control plane {profile.ControlPlane} (machines: {machines}; " +
                    $"'discovery.machineNames' is '{pattern}'). Fix 'controlPlane' or 'discovery.machineNames' in the profile."]);
            if (profile.Workers.Count == 0)
            {
                var workers = found.Select(e => e.Name).Where(n => n != profile.ControlPlane).Order(NaturalOrder.Instance).ToList();
                if (workers.Count == 0)
                    throw new ProfileException($"Vagrant in {directory} has no worker machine besides {profile.ControlPlane} (machines: {machines}).");
                profile = profile.WithWorkers(workers);
            }
            var missing = profile.AllNodes.Where(n => found.All(e => e.Name != n)).ToList();
            if (missing.Count > 0)
                throw ProfileNodes.Refused(profile, [
                    $"Vagrant in {directory} has no machine for node {string.Join(", ", missing)} (machines: {machines}; " +
                    $"'discovery.machineNames' is '{pattern}'). Fix 'controlPlane'/'workers' in the profile or the Vagrantfile."]);
        }
        else
        {
            found = profile.Discovery.Nodes
                .Select(n => new NodeEndpoint(n.Name, n.Host, n.Port, profile.Login.User, Credentials(profile, null)) { Origin = $"profile {profile.Name}" })
                .ToList();
        }
        // Fault targets left out: every worker, also when the profile lists its workers.
        if (profile.FaultTargets.Count == 0) profile = profile.WithWorkers(profile.Workers);
        ProfileNodes.EnsureDiscovered(profile);
        var wanted = profile.AllNodes.ToList();
        return (found.Where(e => wanted.Contains(e.Name)).Select(e => ApplyLogin(profile, e)).ToList(), profile);
    }

    /// <summary>kubeadm names a node after its hostname: a Vagrant machine whose hostname is not the node's name is not that node.</summary>
    public static async Task CheckHostnamesAsync(IReadOnlyDictionary<string, INodeShell> shells, ClusterProfile profile, CancellationToken ct)
    {
        var timeout = profile.Timeouts.ToTimeouts().Command;
        var hostnames = await Task.WhenAll(shells.Select(async kv =>
            (Node: kv.Key, Host: (await kv.Value.RunAsync("hostname", timeout, ct)).EnsureSuccess().Stdout.Trim().Split('.')[0])));
        var wrong = hostnames.Where(h => !string.Equals(h.Node, h.Host, StringComparison.OrdinalIgnoreCase)).ToList();
        if (wrong.Count > 0)
            throw new ProfileException(string.Join(" ", wrong.Select(w => $"The machine taken for node {w.Node} has hostname {w.Host}.")) +
                $" Fix 'discovery.machineNames' ('{profile.Discovery.MachineNames}'), 'controlPlane' or 'workers' in the profile.");
    }

    /// <summary>The node a Vagrant machine is, by the profile's pattern (<c>{node}</c>, <c>{node}-*</c>); null if it does not match.</summary>
    public static string? NodeName(string pattern, string machine)
    {
        var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace(@"\{node}", "(?<node>.+?)").Replace(@"\*", "[^-]+") + "$";
        var match = System.Text.RegularExpressions.Regex.Match(machine, regex);
        return match.Success ? match.Groups["node"].Value : null;
    }

    private static NodeEndpoint ApplyLogin(ClusterProfile profile, NodeEndpoint endpoint)
    {
        var login = profile.Login;
        var user = string.IsNullOrEmpty(login.User) ? endpoint.User : login.User;
        return endpoint with
        {
            User = user,
            UseSudo = user != "root",
            Credentials = Credentials(profile, endpoint.Credentials.PrivateKeyPath),
            Origin = endpoint.Origin is { } origin && origin.StartsWith("machine ", StringComparison.Ordinal) ? $"{origin}, profile {profile.Name}" : $"profile {profile.Name}",
        };
    }

    private static NodeCredentials Credentials(ClusterProfile profile, string? discoveredKey)
    {
        var login = profile.Login;
        // "none" turns off the key vagrant ssh-config offers, for a password-only login.
        var key = login.PrivateKey switch
        {
            "none" => null,
            "" => discoveredKey,
            _ => profile.ResolvePath(login.PrivateKey),
        };
        string? password = null;
        if (!string.IsNullOrEmpty(login.PasswordVariable))
        {
            password = Environment.GetEnvironmentVariable(login.PasswordVariable);
            if (string.IsNullOrEmpty(password) && key is null)
                throw new ProfileException(
                    $"Profile '{profile.Name}' logs in with a password, but environment variable {login.PasswordVariable} is not set. " +
                    $"Export {login.PasswordVariable} (the book's root password) or set 'login.privateKey'.");
        }
        if (key is null && string.IsNullOrEmpty(password))
            throw new ProfileException($"Profile '{profile.Name}' gives no way to log in: set 'login.privateKey' or 'login.passwordVariable'.");
        return new NodeCredentials(key, string.IsNullOrEmpty(password) ? null : password,
            passwordSource: login.PasswordVariable is { Length: > 0 } v ? $"environment variable {v}" : null);
    }
}

/// <summary>w2-k8s before w10-k8s: numbers inside names compare by value.</summary>
public sealed class NaturalOrder : IComparer<string>
{
    public static readonly NaturalOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        static string Key(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"\d+", m => m.Value.PadLeft(10, '0'));
        return string.CompareOrdinal(Key(x ?? ""), Key(y ?? ""));
    }
}
