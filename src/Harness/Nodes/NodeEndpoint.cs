using Harness.Text;

namespace Harness.Nodes;

/// <summary>How to reach one node over SSH. <see cref="Origin"/> says where it came from (e.g. "profile book") for error messages.</summary>
public sealed record NodeEndpoint(string Name, string Host, int Port, string User, NodeCredentials Credentials)
{
    private readonly bool? _useSudo;

    /// <summary>Commands run as root; a non-root login goes through <c>sudo -n</c>. Follows <see cref="User"/> unless set.</summary>
    public bool UseSudo { get => _useSudo ?? User != "root"; init => _useSudo = value; }

    public string? Origin { get; init; }

    public string Address => $"{Host}:{Port}";

    public override string ToString() => $"{Name} ({User}@{Address}, {Credentials})";
}

/// <summary>A private key path and/or a password. Secrets are registered for redaction the moment they are held.</summary>
public sealed record NodeCredentials
{
    public NodeCredentials(string? privateKeyPath = null, string? password = null,
        string? passwordSource = null, string? keyPassphrase = null)
    {
        if (string.IsNullOrEmpty(privateKeyPath) && string.IsNullOrEmpty(password))
            throw new ArgumentException("Node credentials need a private key path or a password.");
        Secrets.Register(password);
        Secrets.Register(keyPassphrase);
        PrivateKeyPath = privateKeyPath;
        Password = password;
        PasswordSource = passwordSource ?? "the profile";
        KeyPassphrase = keyPassphrase;
    }

    public string? PrivateKeyPath { get; }
    public string? Password { get; }

    /// <summary>Where the password was taken from, e.g. "environment variable NODE_PASSWORD" (named in auth errors).</summary>
    public string PasswordSource { get; }

    public string? KeyPassphrase { get; }

    public override string ToString() =>
        string.Join(", ", new[]
        {
            PrivateKeyPath is null ? null : $"key {PrivateKeyPath}",
            Password is null ? null : $"password from {PasswordSource}",
        }.Where(s => s is not null));
}
