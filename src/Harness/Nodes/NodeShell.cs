using System.Diagnostics;
using System.Net.Sockets;
using Harness.Waits;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Harness.Nodes;

/// <summary>
/// One reused SSH connection to a node. Commands run as root (through <c>sudo -n</c> when the login user is not root),
/// each with a timeout and the caller's cancellation; a connection found dead is re-opened once before a command fails.
/// </summary>
public sealed class NodeShell : INodeShell, IAsyncDisposable
{
    public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PollDelay = TimeSpan.FromSeconds(1);

    private readonly HostKeyStore _hostKeys;
    private readonly TimeSpan _connectTimeout;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private SshClient? _client;

    private NodeShell(NodeEndpoint endpoint, HostKeyStore hostKeys, TimeSpan connectTimeout)
    {
        Endpoint = endpoint;
        _hostKeys = hostKeys;
        _connectTimeout = connectTimeout;
    }

    public NodeEndpoint Endpoint { get; }
    public string Name => Endpoint.Name;

    /// <summary>Connects, checks the host key, and (for a non-root user) that passwordless sudo works.</summary>
    public static async Task<NodeShell> ConnectAsync(NodeEndpoint endpoint, HostKeyStore hostKeys, TimeSpan connectTimeout,
        CancellationToken ct = default)
    {
        var shell = new NodeShell(endpoint, hostKeys, connectTimeout);
        try
        {
            shell._client = await SshConnector.ConnectSshAsync(endpoint, hostKeys, connectTimeout, ct);
            if (endpoint.UseSudo) await shell.EnsurePasswordlessSudoAsync(ct);
            return shell;
        }
        catch
        {
            await shell.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="command"/> as root.</summary>
    public Task<CommandResult> RunAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default) =>
        ExecuteAsync(command, Endpoint.UseSudo ? $"sudo -n sh -c {ShellQuote.Single(command)}" : command, "root", timeout, ct);

    /// <summary>Runs <paramref name="command"/> as the login user, without sudo.</summary>
    public Task<CommandResult> RunAsLoginUserAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default) =>
        ExecuteAsync(command, command, Endpoint.User, timeout, ct);

    /// <summary>
    /// Starts a command that will take the connection down (e.g. <c>reboot</c>) a second after this call returns,
    /// detached from the session so the session can close cleanly first.
    /// </summary>
    public async Task StartDetachedAsync(string command, CancellationToken ct = default) =>
        (await RunAsync($"nohup sh -c {ShellQuote.Single("sleep 1; " + command)} >/dev/null 2>&1 &", TimeSpan.FromSeconds(15), ct))
        .EnsureSuccess();

    /// <summary>Reads a file as root: over SFTP when logged in as root, else through <c>sudo base64</c>.</summary>
    public async Task<byte[]> DownloadAsync(string remotePath, CancellationToken ct = default)
    {
        if (Endpoint.UseSudo)
        {
            var result = (await RunAsync($"base64 < {ShellQuote.Single(remotePath)}", ct: ct)).EnsureSuccess();
            return Convert.FromBase64String(string.Concat(result.Stdout.Where(c => !char.IsWhiteSpace(c))));
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(DefaultCommandTimeout);
        using var sftp = await SshConnector.ConnectSftpAsync(Endpoint, _hostKeys, _connectTimeout, deadline.Token);
        using var buffer = new MemoryStream();
        try
        {
            await sftp.DownloadFileAsync(remotePath, buffer, deadline.Token);
        }
        catch (SftpPathNotFoundException e)
        {
            throw new FileNotFoundException($"{remotePath} does not exist on {Name}.", remotePath, e);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new NodeCommandTimeoutException(Name, $"sftp get {remotePath}", DefaultCommandTimeout);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Writes a file as root (mode 0600 unless given): over SFTP when logged in as root, else uploaded to a private temporary
    /// file and moved into place with <c>sudo install</c>.
    /// </summary>
    public async Task UploadAsync(byte[] content, string remotePath, string mode = "0600", CancellationToken ct = default)
    {
        var target = Endpoint.UseSudo ? $"/tmp/.harness-upload-{Guid.NewGuid():N}" : remotePath;
        using (var sftp = await SshConnector.ConnectSftpAsync(Endpoint, _hostKeys, _connectTimeout, ct))
            await sftp.UploadFileAsync(new MemoryStream(content), target, ct);
        var place = Endpoint.UseSudo
            ? $"install -m {mode} {ShellQuote.Single(target)} {ShellQuote.Single(remotePath)}; status=$?; rm -f {ShellQuote.Single(target)}; exit $status"
            : $"chmod {mode} {ShellQuote.Single(remotePath)}";
        (await RunAsync(place, ct: ct)).EnsureSuccess();
    }

    /// <summary>Waits until a fresh connection logs in and runs <c>true</c> (e.g. after a reboot).</summary>
    public async Task WaitUntilReachableAsync(TimeSpan deadline, CancellationToken ct = default)
    {
        await DropClientAsync();
        var login = await new Until<SshClient>($"{Name} to accept an SSH login", async token =>
            {
                var client = await SshConnector.ConnectSshAsync(Endpoint, _hostKeys, _connectTimeout, token);
                using (var probe = client.CreateCommand("true")) await probe.ExecuteAsync(token);
                return client;
            }, _ => true)
            { Poll = Poll.Every(PollDelay), NotYetOn = IsDown }
            .LastWithinAsync(deadline, ct);
        if (!login.Holds)
            throw new NodeUnreachableException(
                $"{Name} ({Endpoint.Address}) did not become reachable within {deadline.TotalSeconds:0.#} s. " +
                $"Last error: {login.LastError?.Message ?? "none"}");
        await ReplaceClientAsync(login.Last);
    }

    /// <summary>Waits until the node stops accepting SSH logins (e.g. a reboot has begun).</summary>
    public async Task WaitUntilUnreachableAsync(TimeSpan deadline, CancellationToken ct = default)
    {
        await DropClientAsync();
        var down = await new Until<bool>($"{Name} to refuse SSH logins", async token =>
            {
                try
                {
                    using var client = await SshConnector.ConnectSshAsync(Endpoint, _hostKeys, _connectTimeout, token);
                    return false;
                }
                catch (Exception e) when (IsDown(e) && !token.IsCancellationRequested)
                {
                    return true;
                }
            }, refused => refused)
            { Poll = Poll.Every(PollDelay) }
            .LastWithinAsync(deadline, ct);
        if (!down.Holds)
            throw new NodeAccessException(
                $"{Name} ({Endpoint.Address}) still accepted SSH logins after {deadline.TotalSeconds:0.#} s; the command meant to take it down did not.");
    }

    public async ValueTask DisposeAsync()
    {
        await DropClientAsync();
        _connectGate.Dispose();
    }

    private async Task<CommandResult> ExecuteAsync(string shown, string wire, string user, TimeSpan? timeout, CancellationToken ct)
    {
        var limit = timeout ?? DefaultCommandTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(limit);
        var started = Stopwatch.GetTimestamp();
        try
        {
            SshCommand command;
            var client = await CurrentClientAsync(null, deadline.Token);
            try
            {
                command = await RunOnceAsync(client, wire, deadline.Token);
            }
            catch (Exception e) when (IsConnectionLost(e) && !deadline.IsCancellationRequested)
            {
                // The node may have rebooted or sshd restarted: one fresh connection, then fail for real.
                client = await CurrentClientAsync(client, deadline.Token);
                command = await RunOnceAsync(client, wire, deadline.Token);
            }

            using (command)
                return new CommandResult(Name, shown, command.ExitStatus ?? -1, command.Result, command.Error,
                    Stopwatch.GetElapsedTime(started)) { User = user };
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new NodeCommandTimeoutException(Name, shown, limit);
        }
    }

    private static async Task<SshCommand> RunOnceAsync(SshClient client, string text, CancellationToken ct)
    {
        var command = client.CreateCommand(text);
        try
        {
            await command.ExecuteAsync(ct);
            return command;
        }
        catch
        {
            command.Dispose();
            throw;
        }
    }

    /// <summary>The live client; a new one when there is none, it is disconnected, or it is the one that just failed.</summary>
    private async Task<SshClient> CurrentClientAsync(SshClient? failed, CancellationToken ct)
    {
        await _connectGate.WaitAsync(ct);
        try
        {
            if (_client is { IsConnected: true } && _client != failed) return _client;
            _client?.Dispose();
            _client = null;
            _client = await SshConnector.ConnectSshAsync(Endpoint, _hostKeys, _connectTimeout, ct);
            return _client;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task ReplaceClientAsync(SshClient? client)
    {
        await _connectGate.WaitAsync();
        try
        {
            _client?.Dispose();
            _client = client;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private Task DropClientAsync() => ReplaceClientAsync(null);

    private async Task EnsurePasswordlessSudoAsync(CancellationToken ct)
    {
        var check = await RunAsLoginUserAsync("sudo -n true", TimeSpan.FromSeconds(10), ct);
        if (!check.Succeeded)
            throw new NodeSudoException(
                $"User '{Endpoint.User}' needs passwordless sudo on node {Name} ({Endpoint.Address}): `sudo -n true` said " +
                $"\"{check.Stderr.Trim()}\". Add '{Endpoint.User} ALL=(ALL) NOPASSWD:ALL' under /etc/sudoers.d/ on the node, " +
                $"or log in as root{NodeAccessException.Hint(Endpoint)}.");
    }

    private static bool IsConnectionLost(Exception e) =>
        e is SshConnectionException or SocketException or ObjectDisposedException or IOException;

    // Transport failures mean "down"; a changed host key or a rejected login means something else is wrong.
    private static bool IsDown(Exception e) =>
        e is NodeUnreachableException or SshConnectionException or SocketException or SshOperationTimeoutException or IOException
        || e.GetType() == typeof(NodeAccessException);
}
