using Harness.Nodes;

namespace Harness.Tests.ClusterAccess;

/// <summary>A node that records the commands it is given and answers each with <see cref="Answer"/>; no SSH.</summary>
internal sealed class FakeNodeShell(string name) : INodeShell
{
    public string Name { get; } = name;
    public List<string> Commands { get; } = [];
    public Func<string, (int ExitCode, string Stdout, string Stderr)> Answer { get; set; } = _ => (0, "", "");

    public Task<CommandResult> RunAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        Commands.Add(command);
        var (exit, stdout, stderr) = Answer(command);
        return Task.FromResult(new CommandResult(Name, command, exit, stdout, stderr, TimeSpan.Zero));
    }

    public Task<CommandResult> RunAsLoginUserAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default) =>
        RunAsync(command, timeout, ct);

    public Task StartDetachedAsync(string command, CancellationToken ct = default) => RunAsync(command, ct: ct);
    public Task<byte[]> DownloadAsync(string remotePath, CancellationToken ct = default) => throw new FileNotFoundException(remotePath);
    public Task UploadAsync(byte[] content, string remotePath, string mode = "0600", CancellationToken ct = default) => Task.CompletedTask;
    public Task WaitUntilReachableAsync(TimeSpan deadline, CancellationToken ct = default) => Task.CompletedTask;
    public Task WaitUntilUnreachableAsync(TimeSpan deadline, CancellationToken ct = default) => Task.CompletedTask;
}
