namespace Harness.Tests.BadInput;

/// <summary>
/// Decides which `vagrant` the harness finds on PATH, for this test process only: a stand-in script that prints
/// canned <c>vagrant status --machine-readable</c> / <c>vagrant ssh-config</c> output, or none at all.
/// The real vagrant (and the lab behind it) is never run. <see cref="Dispose"/> puts PATH back.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class StandInVagrant : IDisposable
{
    private readonly string? _originalPath = Environment.GetEnvironmentVariable("PATH");
    private StandInVagrant(string path) => Environment.SetEnvironmentVariable("PATH", path);

    /// <summary>PATH holds only an empty folder: `vagrant` is "not installed".</summary>
    public static StandInVagrant NotInstalled(string temp)
    {
        var bin = Directory.CreateDirectory(Path.Combine(temp, "empty-bin")).FullName;
        return new StandInVagrant(bin);
    }

    /// <summary>A `vagrant` first on PATH that reports <paramref name="machines"/> (name → state), each reachable at 127.0.0.1:<paramref name="port"/>.</summary>
    public static StandInVagrant Reporting(string temp, int port, params (string Name, string State)[] machines)
    {
        var bin = Directory.CreateDirectory(Path.Combine(temp, "stand-in-bin")).FullName;
        var status = string.Concat(machines.Select(m => $"1764100001,{m.Name},provider-name,docker\n1764100001,{m.Name},state,{m.State}\n"));
        var sshConfig = string.Concat(machines.Select(m =>
            $"Host {m.Name}\n  HostName 127.0.0.1\n  User vagrant\n  Port {port}\n  IdentityFile {Path.Combine(bin, "unused_key")}\n\n"));
        File.WriteAllText(Path.Combine(bin, "status.out"), status);
        File.WriteAllText(Path.Combine(bin, "ssh-config.out"), sshConfig);
        // As real Vagrant does: ssh-config fails when a machine is not running (VirtualBox and docker providers alike).
        var sshConfigFails = machines.Any(m => m.State != "running")
            ? """[ "$1" = "ssh-config" ] && { echo 'The provider for this Vagrant-managed machine is reporting that it is not yet ready for SSH.' >&2; exit 1; }"""
            : "";
        var script = Path.Combine(bin, "vagrant");
        File.WriteAllText(script, $"""
            #!/bin/sh
            [ "$1 $2" = "status --machine-readable" ] && exec cat '{bin}/status.out'
            {sshConfigFails}
            [ "$1" = "ssh-config" ] && exec cat '{bin}/ssh-config.out'
            echo "stand-in vagrant: unexpected arguments: $*" >&2; exit 64

            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new StandInVagrant(bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"));
    }

    public void Dispose() => Environment.SetEnvironmentVariable("PATH", _originalPath);
}
