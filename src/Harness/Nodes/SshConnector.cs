using System.Net.Sockets;
using System.Text;
using Harness.Text;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Harness.Nodes;

/// <summary>
/// Opens SSH.NET clients for a node and turns every way that can fail into a <see cref="NodeAccessException"/>
/// that names the node and what to fix.
/// </summary>
internal static class SshConnector
{
    // Short enough that a dead peer (rebooted node) is noticed within seconds.
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(3);

    public static Task<SshClient> ConnectSshAsync(NodeEndpoint node, HostKeyStore hostKeys, TimeSpan timeout, CancellationToken ct) =>
        ConnectAsync(node, hostKeys, timeout, info => new SshClient(info), ct);

    public static Task<SftpClient> ConnectSftpAsync(NodeEndpoint node, HostKeyStore hostKeys, TimeSpan timeout, CancellationToken ct) =>
        ConnectAsync(node, hostKeys, timeout, info => new SftpClient(info), ct);

    private static async Task<T> ConnectAsync<T>(NodeEndpoint node, HostKeyStore hostKeys, TimeSpan timeout,
        Func<ConnectionInfo, T> create, CancellationToken ct) where T : BaseClient
    {
        var info = new ConnectionInfo(node.Host, node.Port, node.User, AuthenticationMethods(node)) { Timeout = timeout };
        PreferCurve25519(info);
        var client = create(info);
        client.KeepAliveInterval = KeepAlive;

        string? offered = null, recorded = null;
        client.HostKeyReceived += (_, e) =>
        {
            offered = "SHA256:" + e.FingerPrintSHA256;
            e.CanTrust = hostKeys.TryTrust(node.Host, node.Port, offered, out recorded);
        };

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await client.ConnectAsync(deadline.Token);
            return client;
        }
        catch (Exception e)
        {
            client.Dispose();
            if (recorded is not null && recorded != offered)
                throw new HostKeyChangedException(
                    $"Host key of {node.Name} at {node.Address} has changed: recorded {recorded}, offered {offered}. " +
                    $"Refusing to connect: this may be a different machine. If the node was rebuilt, remove the entry " +
                    $"\"{node.Address}\" from {hostKeys.Path} and run again.{NodeAccessException.Hint(node)}");
            if (ct.IsCancellationRequested) throw;
            throw Translate(node, e, timeout);
        }
    }

    /// <summary>
    /// curve25519-sha256 first. SSH.NET offers the post-quantum hybrids first, and an OpenSSH ≥ 9.0 node (the lab's
    /// Debian) picks sntrup761x25519, whose managed NTRU Prime key generation cost more CPU than all the rest of a
    /// one-check run's SSH traffic. CentOS 7's sshd (the book's nodes) has neither and agrees on curve25519 anyway.
    /// The hybrids stay offered after it, for a server that allows nothing else.
    /// </summary>
    internal static void PreferCurve25519(ConnectionInfo info)
    {
        string[] preferred = ["curve25519-sha256", "curve25519-sha256@libssh.org"];
        var rest = info.KeyExchangeAlgorithms.Where(a => !preferred.Contains(a.Key)).ToList();
        var first = preferred.Where(info.KeyExchangeAlgorithms.ContainsKey).Select(k => KeyValuePair.Create(k, info.KeyExchangeAlgorithms[k])).ToList();
        info.KeyExchangeAlgorithms.Clear();
        foreach (var (name, create) in first.Concat(rest)) info.KeyExchangeAlgorithms.Add(name, create);
    }

    private static Exception Translate(NodeEndpoint node, Exception e, TimeSpan timeout)
    {
        var where = $"{node.Name} at {node.Address}";
        var hint = NodeAccessException.Hint(node);
        return e switch
        {
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } =>
                new NodeUnreachableException(
                    $"Cannot reach {where}: the host name '{node.Host}' does not resolve. Check the node's host name or IP address{hint}.", e),
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } =>
                new NodeUnreachableException(
                    $"Cannot reach {where}: connection refused. Is the node running and is sshd listening on port {node.Port}?{hint}", e),
            SocketException s =>
                new NodeUnreachableException(
                    $"Cannot reach {where}: {s.SocketErrorCode} ({s.Message}). Check the address and the network path to the node{hint}.", e),
            OperationCanceledException or SshOperationTimeoutException =>
                new NodeUnreachableException(
                    $"Cannot reach {where}: no SSH answer within {timeout.TotalSeconds:0.#} s. Is the node up, is the address right, " +
                    $"and is something other than sshd (or a firewall) holding port {node.Port}?{hint}", e),
            SshAuthenticationException => new NodeAuthenticationException(AuthFailure(node), e),
            SshConnectionException =>
                new NodeAccessException(
                    $"Cannot talk SSH to {where}: the server closed the connection ({e.Message}). Is it sshd on port {node.Port}?{hint}", e),
            _ => new NodeAccessException($"Cannot connect to {where}: {e.GetType().Name}: {e.Message}{hint}", e),
        };
    }

    private static string AuthFailure(NodeEndpoint node)
    {
        var c = node.Credentials;
        var what = (c.PrivateKeyPath, c.Password) switch
        {
            (not null, not null) => $"neither the key {c.PrivateKeyPath} nor the password from {c.PasswordSource} was accepted",
            (not null, null) => $"key {c.PrivateKeyPath} rejected; check that its public key is in ~{node.User}/.ssh/authorized_keys on the node",
            _ => $"password rejected; check the password in {c.PasswordSource}",
        };
        return $"login as '{node.User}' to {node.Name} ({node.Address}) failed: {what}, and that user '{node.User}' exists on the node " +
               $"and may log in over SSH.{NodeAccessException.Hint(node)}";
    }

    private static AuthenticationMethod[] AuthenticationMethods(NodeEndpoint node)
    {
        var c = node.Credentials;
        var methods = new List<AuthenticationMethod>();
        if (c.PrivateKeyPath is not null)
            methods.Add(new PrivateKeyAuthenticationMethod(node.User, LoadKey(node, c.PrivateKeyPath, c.KeyPassphrase)));
        if (c.Password is not null)
            methods.Add(new PasswordAuthenticationMethod(node.User, c.Password));
        return [.. methods];
    }

    // Checked before any connection, so a bad key path fails at once with the path in the message.
    private static PrivateKeyFile LoadKey(NodeEndpoint node, string path, string? passphrase)
    {
        var fix = $"Fix the private key path for {node.Name}{NodeAccessException.Hint(node)}.";
        byte[] bytes;
        try
        {
            if (Directory.Exists(path)) throw new NodeKeyFileException($"Private key {path} for {node.Name} is a directory, not a file. {fix}");
            if (!File.Exists(path)) throw new NodeKeyFileException($"Private key file {path} for {node.Name} does not exist. {fix}");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new NodeKeyFileException($"Private key file {path} for {node.Name} cannot be read: {e.Message} {fix}", e);
        }

        Secrets.Register(Encoding.UTF8.GetString(bytes));
        try
        {
            return new PrivateKeyFile(new MemoryStream(bytes), passphrase);
        }
        catch (SshPassPhraseNullOrEmptyException e)
        {
            throw new NodeKeyFileException($"Private key file {path} for {node.Name} is encrypted; give its passphrase or use an unencrypted key. {fix}", e);
        }
        catch (Exception e)
        {
            // The library's message never contains key material, but the type says enough.
            throw new NodeKeyFileException(
                $"File {path} for {node.Name} is not a private key SSH.NET can read ({e.GetType().Name}); expected an RSA, ECDSA or Ed25519 " +
                $"key in OpenSSH, PKCS#8 or PuTTY format (a wrong passphrase also ends here). {fix}", e);
        }
    }
}
