using Harness.Nodes;
using Harness.Profiles;

namespace Harness;

/// <summary>
/// Turns a profile into SSH endpoints: from <c>vagrant ssh-config</c> in the profile's Vagrant directory, or from the
/// profile's static host list; then applies the profile's login settings (user, key, password variable) on top.
/// </summary>
public static class NodeDiscovery
{
    public static async Task<IReadOnlyList<NodeEndpoint>> DiscoverAsync(ClusterProfile profile, CancellationToken ct)
    {
        var wanted = profile.AllNodes.ToList();
        IReadOnlyList<NodeEndpoint> found;
        if (profile.Discovery.Mode == "vagrant")
        {
            var directory = profile.ResolvePath(profile.Discovery.VagrantDirectory);
            var environment = profile.Discovery.VagrantEnvironment.ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
            var hosts = await new VagrantDiscovery(directory, environment).DiscoverAsync(ct);
            found = hosts.Select(h => h.ToEndpoint(origin: $"vagrant ssh-config in {directory}")).ToList();
            var missing = wanted.Where(n => found.All(e => e.Name != n)).ToList();
            if (missing.Count > 0)
                throw new ProfileException(
                    $"Vagrant in {directory} has no machine named {string.Join(", ", missing)} (it has {string.Join(", ", found.Select(e => e.Name))}). " +
                    "Fix 'controlPlane'/'workers' in the profile or the Vagrantfile.");
        }
        else
        {
            found = profile.Discovery.Nodes
                .Select(n => new NodeEndpoint(n.Name, n.Host, n.Port, profile.Login.User, Credentials(profile, null)) { Origin = $"profile {profile.Name}" })
                .ToList();
        }
        return found.Where(e => wanted.Contains(e.Name)).Select(e => ApplyLogin(profile, e)).ToList();
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
            Origin = $"profile {profile.Name}",
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
