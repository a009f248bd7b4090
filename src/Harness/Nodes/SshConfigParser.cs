namespace Harness.Nodes;

/// <summary>One <c>Host</c> block of an OpenSSH client config (as <c>vagrant ssh-config</c> prints it).</summary>
public sealed record SshConfigHost(string Name, string HostName, int Port, string? User,
    IReadOnlyList<string> IdentityFiles, IReadOnlyDictionary<string, string> Options)
{
    public string? ProxyCommand => Options.GetValueOrDefault("ProxyCommand");

    /// <summary>
    /// The endpoint for this host. <paramref name="user"/> and <paramref name="credentials"/> override what the config says
    /// (the book logs in as root with a password, not as vagrant with the key).
    /// </summary>
    public NodeEndpoint ToEndpoint(string? user = null, NodeCredentials? credentials = null, string? origin = null)
    {
        var where = origin is null ? "" : $" ({origin})";
        if (ProxyCommand is not null)
            throw new NodeAccessException(
                $"{Name} is reached through ProxyCommand '{ProxyCommand}', which the harness cannot use. Run where the node's " +
                $"address is directly reachable, or list the node's address in the profile{where}.");
        var login = user ?? User ?? throw new NodeAccessException($"The ssh config for {Name} names no User; set one in the profile{where}.");
        credentials ??= IdentityFiles.Count > 0
            ? new NodeCredentials(privateKeyPath: IdentityFiles.FirstOrDefault(File.Exists) ?? IdentityFiles[0])
            : throw new NodeAccessException($"The ssh config for {Name} names no IdentityFile; give a key or password in the profile{where}.");
        return new NodeEndpoint(Name, HostName, Port, login, credentials) { Origin = origin };
    }
}

/// <summary>Reads OpenSSH client config text: <c>Keyword value</c> or <c>Keyword=value</c>, keywords case-insensitive, values optionally double-quoted.</summary>
public static class SshConfigParser
{
    public static IReadOnlyList<SshConfigHost> Parse(string text)
    {
        var hosts = new List<SshConfigHost>();
        string? name = null;
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var identities = new List<string>();

        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var (keyword, value) = Split(line);
            if (keyword.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                Flush();
                name = value;
                options = new(StringComparer.OrdinalIgnoreCase);
                identities = [];
            }
            else if (name is null) continue; // global options before the first Host: not ours to interpret
            else if (keyword.Equals("IdentityFile", StringComparison.OrdinalIgnoreCase)) identities.Add(ExpandHome(value));
            else options.TryAdd(keyword, value); // ssh uses the first value given
        }
        Flush();
        return hosts;

        void Flush()
        {
            if (name is null) return;
            var port = options.TryGetValue("Port", out var p) ? int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : 22;
            hosts.Add(new SshConfigHost(name, options.GetValueOrDefault("HostName") ?? name, port,
                options.GetValueOrDefault("User"), identities, options));
        }
    }

    private static (string Keyword, string Value) Split(string line)
    {
        var cut = line.IndexOfAny([' ', '\t', '=']);
        if (cut < 0) return (line, "");
        var keyword = line[..cut];
        var value = line[(cut + 1)..].TrimStart(' ', '\t', '=').TrimEnd();
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
        return (keyword, value);
    }

    private static string ExpandHome(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path;
}
