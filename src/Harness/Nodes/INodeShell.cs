namespace Harness.Nodes;

/// <summary>
/// A node as the harness uses it: commands as root (what the book types on a node), files, and the node going away
/// and coming back (a reboot). <see cref="NodeShell"/> is the SSH one; a unit test can stand in a fake.
/// </summary>
public interface INodeShell
{
    /// <summary>The node's name (kubeadm's: its hostname).</summary>
    string Name { get; }

    /// <summary>Runs <paramref name="command"/> as root.</summary>
    Task<CommandResult> RunAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default);

    /// <summary>Runs <paramref name="command"/> as the login user, without sudo.</summary>
    Task<CommandResult> RunAsLoginUserAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default);

    /// <summary>Starts a command that takes the connection down (e.g. <c>reboot</c>), detached from the session.</summary>
    Task StartDetachedAsync(string command, CancellationToken ct = default);

    /// <summary>Reads a file as root.</summary>
    Task<byte[]> DownloadAsync(string remotePath, CancellationToken ct = default);

    /// <summary>Writes a file as root with <paramref name="mode"/>.</summary>
    Task UploadAsync(byte[] content, string remotePath, string mode = "0600", CancellationToken ct = default);

    /// <summary>Waits until the node accepts logins again (after a reboot).</summary>
    Task WaitUntilReachableAsync(TimeSpan deadline, CancellationToken ct = default);

    /// <summary>Waits until the node stops accepting logins (a reboot has begun).</summary>
    Task WaitUntilUnreachableAsync(TimeSpan deadline, CancellationToken ct = default);
}
