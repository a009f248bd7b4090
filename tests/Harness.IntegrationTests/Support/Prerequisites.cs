using System.ComponentModel;
using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;

namespace Harness.IntegrationTests.Support;

/// <summary>
/// What the harness's own tests need from this machine: Debian's sshd and sudo (the node-shell tests start their own
/// sshd on loopback and log in through sudo) and the npm tools pinned under tools/: the Allure CLI in tools/allure (the
/// Allure CLI tests render with it) and the workflow validators in tools/ci-lint (the workflow lint tests run them).
/// Paths are parameters so a test can point them at files that do not exist.
/// </summary>
public sealed record Prerequisites(string SshdPath, string SudoPath, IReadOnlyList<NpmTool> NpmTools)
{
    public static Prerequisites OfThisMachine(string repositoryRoot) =>
        new("/usr/sbin/sshd", "/usr/bin/sudo", [NpmTool.Allure(repositoryRoot), NpmTool.CiLint(repositoryRoot)]);

    /// <summary>The Debian packages to install for what is missing (empty when nothing is).</summary>
    public IReadOnlyList<string> MissingPackages() =>
        new[] { (SshdPath, "openssh-server"), (SudoPath, "sudo") }.Where(p => !File.Exists(p.Item1)).Select(p => p.Item2).ToList();

    public IReadOnlyList<NpmTool> MissingNpmTools() => NpmTools.Where(t => t.Missing).ToList();
}

/// <summary>
/// A folder under tools/ whose package.json and package-lock.json pin npm packages (node_modules is not committed):
/// installed with <c>npm ci</c> there when <see cref="InstalledFile"/> is missing.
/// </summary>
public sealed record NpmTool(string What, string Directory, string InstalledFile)
{
    public static NpmTool Allure(string repositoryRoot) => At(repositoryRoot, "allure", "the pinned Allure CLI", "node_modules/.bin/allure");

    public static NpmTool CiLint(string repositoryRoot) =>
        At(repositoryRoot, "ci-lint", "the pinned workflow validators", "node_modules/.bin/action-validator");

    public static NpmTool At(string repositoryRoot, string folder, string what, string installedFile)
    {
        var directory = Path.Combine(repositoryRoot, "tools", folder);
        return new NpmTool(what, directory, Path.Combine(directory, installedFile));
    }

    public bool Missing => !File.Exists(InstalledFile);
}

public sealed record CommandLine(string Program, IReadOnlyList<string> Arguments, string? WorkingDirectory = null,
    IReadOnlyDictionary<string, string?>? Environment = null)
{
    public override string ToString() =>
        string.Join(' ', (Environment ?? new Dictionary<string, string?>()).Select(e => $"{e.Key}={e.Value}")
            .Append(Program).Concat(Arguments));
}

public sealed record CommandOutcome(int ExitCode, string Output);

/// <summary>Runs a program; the installer's tests pass a fake that records what would have run.</summary>
public interface ICommandRunner
{
    Task<CommandOutcome> RunAsync(CommandLine command, CancellationToken cancellation);
}

public sealed class CliWrapCommandRunner : ICommandRunner
{
    public async Task<CommandOutcome> RunAsync(CommandLine command, CancellationToken cancellation)
    {
        try
        {
            var result = await Cli.Wrap(command.Program)
                .WithArguments(command.Arguments)
                .WithWorkingDirectory(command.WorkingDirectory ?? Directory.GetCurrentDirectory())
                .WithEnvironmentVariables(command.Environment ?? new Dictionary<string, string?>())
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(cancellation);
            return new CommandOutcome(result.ExitCode, (result.StandardOutput + result.StandardError).Trim());
        }
        catch (Win32Exception e) // the program is not installed or not on PATH
        {
            return new CommandOutcome(127, $"{command.Program} could not be started: {e.Message}");
        }
    }
}

/// <summary>
/// Installs what <see cref="Prerequisites"/> finds missing: the Debian packages with apt-get (only as root: otherwise
/// it fails with one message naming the packages), the npm tools with <c>npm ci</c>. One install at a time on this
/// machine (a lock file: two clones may run their tests at once), and all of it within a deadline.
/// </summary>
public sealed class PrerequisiteInstaller(ICommandRunner runner, Action<string> progress, bool isRoot, string lockPath, TimeSpan deadline)
{
    public static string DefaultLockPath => Path.Combine(Path.GetTempPath(), "verification-harness-tests-install.lock");

    private const string ByHand = "apt-get install -y openssh-server sudo; (cd tools/allure && npm ci); (cd tools/ci-lint && npm ci)";

    public async Task EnsureAsync(Prerequisites needed, CancellationToken cancellation = default)
    {
        if (needed.MissingPackages().Count == 0 && needed.MissingNpmTools().Count == 0) return;
        if (needed.MissingPackages() is { Count: > 0 } packages && !isRoot)
            throw new InvalidOperationException(
                $"{WhatIsMissing(needed)}, and this test run is not root, so it cannot install them with apt-get. " +
                $"Install the Debian package{(packages.Count > 1 ? "s" : "")} {string.Join(" ", packages)} as root " +
                $"(apt-get install -y {string.Join(" ", packages)}), then run dotnet test tests/Harness.IntegrationTests again, as root: " +
                "the sshd tests create local users.");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(deadline);
        var doing = $"waiting for the install lock {lockPath}";
        try
        {
            using var installLock = await AcquireLockAsync(timeout.Token);
            // Another test run may have installed everything while this one waited for the lock.
            if (needed.MissingPackages() is { Count: > 0 } stillMissing)
            {
                progress($"installing {string.Join(" ", stillMissing)} with apt-get: {WhatIsMissing(needed)}");
                var apt = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
                // DPkg::Lock::Timeout: wait for another apt-get instead of failing at once.
                foreach (var command in new[]
                {
                    new CommandLine("apt-get", ["update", "-q"], Environment: apt),
                    new CommandLine("apt-get", ["install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=120", .. stillMissing], Environment: apt),
                })
                {
                    doing = command.ToString();
                    await RunAsync(command, timeout.Token);
                }
                if (needed.MissingPackages().Count > 0)
                    throw new InvalidOperationException(
                        $"apt-get installed {string.Join(" ", stillMissing)} but {WhatIsMissing(needed)} still. Install by hand: {ByHand}");
            }
            foreach (var tool in needed.MissingNpmTools())
            {
                progress($"installing {tool.What}: npm ci in {tool.Directory} ({tool.InstalledFile} is missing)");
                var npm = new CommandLine("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], tool.Directory);
                doing = $"{npm} (in {tool.Directory})";
                await RunAsync(npm, timeout.Token);
                if (tool.Missing)
                    throw new InvalidOperationException($"npm ci succeeded but {tool.InstalledFile} is still missing. Install by hand: {ByHand}");
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"Installing what the harness tests need did not finish within {deadline.TotalSeconds:0.#} s; stopped during: {doing}. " +
                $"Install by hand: {ByHand}");
        }
    }

    /// <summary>"/usr/sbin/sshd is missing", "/usr/sbin/sshd and /usr/bin/sudo are missing".</summary>
    private static string WhatIsMissing(Prerequisites needed)
    {
        var absent = new[] { needed.SshdPath, needed.SudoPath }.Where(p => !File.Exists(p)).ToList();
        return $"{string.Join(" and ", absent)} {(absent.Count > 1 ? "are" : "is")} missing";
    }

    private async Task RunAsync(CommandLine command, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        progress($"  {command}");
        var outcome = await runner.RunAsync(command, cancellation);
        if (outcome.ExitCode != 0)
        {
            var tail = string.Join('\n', outcome.Output.Split('\n').TakeLast(20));
            throw new InvalidOperationException(
                $"Installing what the harness tests need failed: {command} exited {outcome.ExitCode}:\n{tail}\nInstall by hand: {ByHand}");
        }
        progress($"  done in {clock.Elapsed.TotalSeconds:0} s");
    }

    // .NET takes an advisory flock for FileShare.None on Unix: a second holder, in this or another process, waits.
    private async Task<FileStream> AcquireLockAsync(CancellationToken cancellation)
    {
        var told = false;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.None);
            }
            catch (IOException)
            {
                if (!told) progress($"another test run is installing (lock {lockPath}); waiting for it");
                told = true;
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellation);
            }
        }
    }
}
