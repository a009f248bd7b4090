using System.ComponentModel;
using CliWrap;
using CliWrap.Buffered;

namespace Harness.Nodes;

/// <summary>A machine from <c>vagrant status --machine-readable</c>.</summary>
public sealed record VagrantMachine(string Name, string State, string? Provider)
{
    public bool IsRunning => State == "running";
}

/// <summary>Vagrant could not tell us the nodes; the message says what to fix.</summary>
public sealed class VagrantDiscoveryException(string message, Exception? inner = null) : NodeAccessException(message, inner);

/// <summary>
/// Finds the nodes of a Vagrant cluster: <c>vagrant ssh-config</c> for their addresses, and when that fails,
/// <c>vagrant status --machine-readable</c> to say which machine does not run.
/// </summary>
public sealed class VagrantDiscovery(string directory, IReadOnlyDictionary<string, string?>? environment = null,
    TimeSpan? timeout = null, string executable = "vagrant")
{
    public string Directory { get; } = Path.GetFullPath(directory);
    public TimeSpan Timeout { get; } = timeout ?? TimeSpan.FromSeconds(90);

    /// <summary>Every machine must be running; returns each one's ssh-config block (turn it into an endpoint with <see cref="SshConfigHost.ToEndpoint"/>).</summary>
    public async Task<IReadOnlyList<SshConfigHost>> DiscoverAsync(CancellationToken ct = default)
    {
        // One vagrant command when every machine runs, as it does before every run: each costs seconds of Ruby start-up.
        // ssh-config fails for a machine that is not running; only then does status say which ones, and how to start them.
        // One after the other: two vagrant commands at once in one directory can fail on Vagrant's own locks.
        var sshConfig = await RunAsync(["ssh-config"], ct);
        if (sshConfig.ExitCode == 0) return SshConfigParser.Parse(sshConfig.StandardOutput);
        var machines = await StatusAsync(ct);
        var stopped = machines.Where(m => !m.IsRunning).ToList();
        if (stopped.Count > 0)
            throw new VagrantDiscoveryException(
                string.Join(" ", stopped.Select(m => $"Vagrant machine {m.Name} is not running (state: {m.State}).")) +
                $" Start it with `{string.Join("; ", stopped.Select(m => $"vagrant up {m.Name}"))}` in {Directory}.");
        throw Failed(["ssh-config"], sshConfig);
    }

    public async Task<IReadOnlyList<VagrantMachine>> StatusAsync(CancellationToken ct = default)
    {
        string[] arguments = ["status", "--machine-readable"];
        var status = await RunAsync(arguments, ct);
        return status.ExitCode == 0 ? ParseStatus(status.StandardOutput) : throw Failed(arguments, status);
    }

    /// <summary>Lines are <c>timestamp,target,type,data…</c>; commas inside data are written as <c>%!(VAGRANT_COMMA)</c>.</summary>
    public static IReadOnlyList<VagrantMachine> ParseStatus(string machineReadable)
    {
        var states = new Dictionary<string, string>();
        var providers = new Dictionary<string, string>();
        foreach (var line in machineReadable.Split('\n'))
        {
            var fields = line.TrimEnd('\r').Split(',');
            if (fields.Length < 4 || fields[1].Length == 0) continue;
            if (fields[2] == "state") states.TryAdd(fields[1], fields[3]);
            if (fields[2] == "provider-name") providers.TryAdd(fields[1], fields[3]);
        }
        return states.Select(s => new VagrantMachine(s.Key, s.Value, providers.GetValueOrDefault(s.Key))).ToList();
    }

    private VagrantDiscoveryException Failed(string[] arguments, BufferedCommandResult result) =>
        new($"`vagrant {string.Join(' ', arguments)}` failed in {Directory} (exit {result.ExitCode}): {Last(result.StandardError.Trim(), 1500)}");

    private async Task<BufferedCommandResult> RunAsync(string[] arguments, CancellationToken ct)
    {
        var shown = $"vagrant {string.Join(' ', arguments)}";
        if (!System.IO.Directory.Exists(Directory))
            throw new VagrantDiscoveryException($"The Vagrant directory {Directory} does not exist; fix 'discovery.vagrantDirectory' in the profile.");
        if (!File.Exists(Path.Combine(Directory, "Vagrantfile")))
            throw new VagrantDiscoveryException(
                $"{Directory} has no Vagrantfile; point 'discovery.vagrantDirectory' in the profile at the folder holding the cluster's Vagrantfile " +
                "(for the book: ch3/3.1.3).");

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Timeout);
        try
        {
            return await Cli.Wrap(executable)
                .WithArguments(arguments)
                .WithWorkingDirectory(Directory)
                .WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(deadline.Token);
        }
        catch (Exception e) when (e is Win32Exception || e.InnerException is Win32Exception)
        {
            throw new VagrantDiscoveryException(
                $"`{executable}` is not installed or not on PATH. Install Vagrant (e.g. `apt-get install vagrant`), " +
                "or describe the nodes in the profile as a static host list.", e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new VagrantDiscoveryException($"`{shown}` did not finish within {Timeout.TotalSeconds:0.#} s in {Directory}.", e);
        }
    }

    private static string Last(string text, int max) => text.Length <= max ? text : "…" + text[^max..];
}
