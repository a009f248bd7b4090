using NUnit.Framework;

namespace Harness.IntegrationTests.Support;

/// <summary>
/// The installer behind <see cref="InstallPrerequisites"/>, with paths that do not exist and a fake command runner:
/// what it would run on a fresh machine, without touching this machine's packages.
/// </summary>
public class PrerequisiteInstallerTests
{
    private string _dir = null!;
    private Prerequisites _needed = null!;
    private string _lock = null!;
    private readonly List<string> _progress = [];

    [SetUp]
    public void CreateAFreshMachine()
    {
        _dir = Directory.CreateTempSubdirectory("harness-prereq-").FullName;
        _needed = new Prerequisites(Path.Combine(_dir, "usr", "sbin", "sshd"), Path.Combine(_dir, "usr", "bin", "sudo"),
            [NpmTool.Allure(_dir), NpmTool.CiLint(_dir)]);
        Touch(_needed.SudoPath); // sudo is there, sshd is not
        foreach (var tool in _needed.NpmTools) Touch(tool.InstalledFile);
        _lock = Path.Combine(_dir, "install.lock");
        _progress.Clear();
    }

    [TearDown]
    public void Remove() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task As_root_a_missing_sshd_is_installed_with_apt_get_install_openssh_server()
    {
        var runner = new FakeRunner((command, _) =>
        {
            if (command.Arguments.Contains("install")) Touch(_needed.SshdPath); // what the package would put there
            return Task.FromResult(new CommandOutcome(0, ""));
        });

        await Installer(runner, isRoot: true).EnsureAsync(_needed);

        Assert.That(runner.Ran.Select(c => c.Program + " " + c.Arguments[0]), Is.EqualTo(new[] { "apt-get update", "apt-get install" }));
        var install = runner.Ran[1];
        Assert.That(install.Arguments, Does.Contain("openssh-server").And.Contain("-y"));
        Assert.That(install.Arguments, Does.Not.Contain("sudo"), "sudo is already there");
        Assert.That(install.Environment!["DEBIAN_FRONTEND"], Is.EqualTo("noninteractive"));
        Assert.That(_progress, Has.Some.Contains("installing openssh-server").And.Some.Contains($"{_needed.SshdPath} is missing"));
    }

    [Test]
    public async Task Both_packages_are_installed_when_sshd_and_sudo_are_missing()
    {
        File.Delete(_needed.SudoPath);
        var runner = new FakeRunner((command, _) =>
        {
            if (command.Arguments.Contains("install")) { Touch(_needed.SshdPath); Touch(_needed.SudoPath); }
            return Task.FromResult(new CommandOutcome(0, ""));
        });

        await Installer(runner, isRoot: true).EnsureAsync(_needed);

        Assert.That(runner.Ran[1].Arguments.TakeLast(2), Is.EqualTo(new[] { "openssh-server", "sudo" }));
    }

    [Test]
    public async Task Not_root_fails_with_one_message_naming_the_package_and_runs_nothing()
    {
        var runner = new FakeRunner();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Installer(runner, isRoot: false).EnsureAsync(_needed));

        Assert.That(error!.Message, Does.Contain($"{_needed.SshdPath} is missing").And.Contain("not root")
            .And.Contain("apt-get install -y openssh-server"));
        Assert.That(runner.Ran, Is.Empty);
    }

    [Test]
    public async Task Nothing_missing_runs_nothing_and_takes_no_lock()
    {
        Touch(_needed.SshdPath);
        var runner = new FakeRunner();

        await Installer(runner, isRoot: true).EnsureAsync(_needed);

        Assert.That(runner.Ran, Is.Empty);
        Assert.That(File.Exists(_lock), Is.False);
    }

    [Test]
    public async Task A_missing_allure_cli_is_installed_with_npm_ci_in_the_tools_folder()
    {
        Touch(_needed.SshdPath);
        var allure = _needed.NpmTools[0];
        File.Delete(allure.InstalledFile);
        var runner = new FakeRunner((_, _) => { Touch(allure.InstalledFile); return Task.FromResult(new CommandOutcome(0, "")); });

        await Installer(runner, isRoot: false).EnsureAsync(_needed); // npm ci needs no root

        var npm = runner.Ran.Single();
        Assert.That((npm.Program, npm.Arguments[0], npm.WorkingDirectory), Is.EqualTo(("npm", "ci", Path.Combine(_dir, "tools", "allure"))));
        Assert.That(_progress, Has.Some.Contains("installing the pinned Allure CLI: npm ci"));
    }

    [Test]
    public async Task Missing_workflow_validators_are_installed_with_npm_ci_in_tools_ci_lint_and_nothing_else_runs()
    {
        Touch(_needed.SshdPath);
        var ciLint = _needed.NpmTools[1];
        File.Delete(ciLint.InstalledFile);
        var runner = new FakeRunner((_, _) => { Touch(ciLint.InstalledFile); return Task.FromResult(new CommandOutcome(0, "")); });

        await Installer(runner, isRoot: false).EnsureAsync(_needed);

        var npm = runner.Ran.Single(); // the Allure CLI is there: only tools/ci-lint is installed
        Assert.That((npm.Program, npm.Arguments[0], npm.WorkingDirectory), Is.EqualTo(("npm", "ci", Path.Combine(_dir, "tools", "ci-lint"))));
        Assert.That(_progress, Has.Some.Contains($"installing the pinned workflow validators: npm ci in {ciLint.Directory} ({ciLint.InstalledFile} is missing)"));
    }

    [Test]
    public async Task A_failed_command_names_itself_its_exit_code_and_its_output()
    {
        var runner = new FakeRunner((command, _) => Task.FromResult(command.Arguments[0] == "update"
            ? new CommandOutcome(100, "E: Could not get lock /var/lib/apt/lists/lock")
            : new CommandOutcome(0, "")));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Installer(runner, isRoot: true).EnsureAsync(_needed));

        Assert.That(error!.Message, Does.Contain("apt-get update -q exited 100").And.Contain("Could not get lock"));
        Assert.That(runner.Ran, Has.Count.EqualTo(1), "no install after a failed update");
    }

    [Test]
    public async Task An_install_that_hangs_stops_at_the_deadline_with_a_clear_message()
    {
        var runner = new FakeRunner(async (_, cancellation) => { await Task.Delay(Timeout.Infinite, cancellation); return new CommandOutcome(0, ""); });

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Installer(runner, isRoot: true, TimeSpan.FromMilliseconds(300)).EnsureAsync(_needed));

        Assert.That(error!.Message, Does.Contain("did not finish within 0.3 s"));
        Assert.That(error.Message, Does.Contain("stopped during: DEBIAN_FRONTEND=noninteractive apt-get update"));
    }

    [Test]
    public async Task Two_test_runs_at_once_install_once_one_after_the_other()
    {
        var running = 0;
        var mostAtOnce = 0;
        var runner = new FakeRunner(async (command, cancellation) =>
        {
            var now = Interlocked.Increment(ref running);
            lock (_progress) mostAtOnce = Math.Max(mostAtOnce, now);
            await Task.Delay(200, cancellation);
            if (command.Arguments.Contains("install")) Touch(_needed.SshdPath);
            Interlocked.Decrement(ref running);
            return new CommandOutcome(0, "");
        });

        await Task.WhenAll(Installer(runner, isRoot: true).EnsureAsync(_needed), Installer(runner, isRoot: true).EnsureAsync(_needed));

        Assert.That(runner.Ran.Count(c => c.Arguments.Contains("install")), Is.EqualTo(1), "the second run found sshd installed by the first");
        Assert.That(mostAtOnce, Is.EqualTo(1), "never two commands at once");
        Assert.That(_progress, Has.Some.Contains("another test run is installing"));
    }

    private PrerequisiteInstaller Installer(ICommandRunner runner, bool isRoot, TimeSpan? deadline = null) =>
        new(runner, line => { lock (_progress) _progress.Add(line); }, isRoot, _lock, deadline ?? TimeSpan.FromSeconds(30));

    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
    }

    private sealed class FakeRunner(Func<CommandLine, CancellationToken, Task<CommandOutcome>>? answer = null) : ICommandRunner
    {
        private readonly List<CommandLine> _ran = [];
        public IReadOnlyList<CommandLine> Ran { get { lock (_ran) return _ran.ToList(); } }

        public Task<CommandOutcome> RunAsync(CommandLine command, CancellationToken cancellation)
        {
            lock (_ran) _ran.Add(command);
            return answer?.Invoke(command, cancellation) ?? Task.FromResult(new CommandOutcome(0, ""));
        }
    }
}
