using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Harness.IntegrationTests.Support;

/// <summary>
/// Debian's real sshd on a free 127.0.0.1 port, with a throw-away host key, a throw-away root key and two throw-away
/// users (one with passwordless sudo, one without). Stopped only through the process handle this class started.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SshdServer : IAsyncDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private Process? _process;

    private SshdServer(string dir)
    {
        Directory = dir;
        HostKeyPath = Path.Combine(dir, "host_key");
        UserKeyPath = Path.Combine(dir, "user_key");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        SudoUser = new LocalUser("hsudo" + suffix, "Pw-" + Guid.NewGuid().ToString("N"));
        PlainUser = new LocalUser("hplain" + suffix, "Pw-" + Guid.NewGuid().ToString("N"));
    }

    public string Directory { get; }
    public int Port { get; private set; }
    public string HostKeyPath { get; }
    /// <summary>Authorized for every user, root included.</summary>
    public string UserKeyPath { get; }
    public LocalUser SudoUser { get; }
    public LocalUser PlainUser { get; }

    public sealed record LocalUser(string Name, string Password);

    public static async Task<SshdServer> StartAsync()
    {
        if (!File.Exists(Sshd))
            throw new InvalidOperationException(
                $"{Sshd} is missing: these tests need Debian's OpenSSH server. Run `apt-get install -y openssh-server sudo`; as root, the test run installs it itself (InstallPrerequisites).");
        if (Environment.UserName != "root")
            throw new InvalidOperationException("The sshd tests create local users and must run as root (as they do in CI).");

        var server = new SshdServer(System.IO.Directory.CreateTempSubdirectory("harness-sshd-").FullName);
        try
        {
            await server.PrepareAsync();
            server.Port = FreePort();
            await server.StartProcessAsync(server.HostKeyPath);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new host key file (for the "host key changed" case).</summary>
    public async Task<string> NewHostKeyAsync()
    {
        var path = Path.Combine(Directory, "host_key_" + Guid.NewGuid().ToString("N")[..6]);
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path);
        return path;
    }

    public async Task<string> NewUserKeyAsync(string name)
    {
        var path = Path.Combine(Directory, name);
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path);
        return path;
    }

    /// <summary>Kills sshd and every session it forked, like a node going down.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts again on the same port, with the original host key unless told otherwise.</summary>
    public Task RestartAsync(string? hostKeyPath = null) => StartProcessAsync(hostKeyPath ?? HostKeyPath);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (var user in new[] { SudoUser, PlainUser })
        {
            await RunAsync("sh", "-c", $"id {user.Name} >/dev/null 2>&1 && userdel -r {user.Name} 2>/dev/null; true");
            File.Delete(SudoersDropIn(user));
        }
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private async Task PrepareAsync()
    {
        System.IO.Directory.CreateDirectory("/run/sshd"); // sshd's privilege-separation directory
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", HostKeyPath);
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", UserKeyPath);
        File.Copy(UserKeyPath + ".pub", Path.Combine(Directory, "authorized_keys"));

        foreach (var user in new[] { SudoUser, PlainUser })
        {
            await RunAsync("useradd", "-m", "-s", "/bin/sh", user.Name);
            await RunAsync("chpasswd", $"{user.Name}:{user.Password}\n", []);
        }
        var dropIn = SudoersDropIn(SudoUser);
        await File.WriteAllTextAsync(dropIn, $"{SudoUser.Name} ALL=(ALL) NOPASSWD:ALL\n");
        File.SetUnixFileMode(dropIn, UnixFileMode.UserRead | UnixFileMode.GroupRead);
    }

    private async Task StartProcessAsync(string hostKey)
    {
        var config = Path.Combine(Directory, "sshd_config");
        await File.WriteAllTextAsync(config, $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {hostKey}
            PidFile none
            AuthorizedKeysFile {Path.Combine(Directory, "authorized_keys")}
            PermitRootLogin yes
            PubkeyAuthentication yes
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            MaxStartups 100
            MaxAuthTries 10
            Subsystem sftp internal-sftp
            LogLevel VERBOSE

            """);

        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(Sshd, ["-D", "-e", "-f", config]) { RedirectStandardError = true, UseShellExecute = false },
            EnableRaisingEvents = true,
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            log.Enqueue(e.Data);
            if (e.Data.Contains("Server listening")) listening.TrySetResult();
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("sshd exited:\n" + string.Join("\n", log)));
        process.Start();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException("sshd did not report listening within 10 s:\n" + string.Join("\n", log));
        }
    }

    private static string SudoersDropIn(LocalUser user) => $"/etc/sudoers.d/{user.Name}";

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task RunAsync(string file, params string[] args) => RunAsync(file, null, args);

    private static async Task RunAsync(string file, string? stdin, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args)
        {
            RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
    }
}
