using System.Diagnostics;
using Harness.ClusterAccess;
using Harness.Kube;
using Harness.Profiles;
using Harness.IntegrationTests.Support;
using Harness.Tests.BadInput;
using NUnit.Framework;

namespace Harness.IntegrationTests.BadInput;

/// <summary>
/// The bad-input catalogue (issue 5, item 5), end to end through the harness's real entry points:
/// <see cref="Cluster.ConnectAsync"/> with a profile against the real sshd on loopback, <see cref="ProfileLoader.Load"/>
/// for profile files, <see cref="Manifests.Load{T}"/> for manifests. Each wrong input gives one exception whose single-line
/// message names what to fix, never a password, within 15 s, and nothing is injected (no fault ledger appears).
/// The table in docs/bad-input.md lists the same rows with the messages and times these tests print.
/// </summary>
[TestFixture]
[NonParallelizable] // sets an environment variable and PATH of this process
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BadInputTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    /// <summary>A setting the profile itself refutes (issue 18): refused before any login, so well within this.</summary>
    private static readonly TimeSpan SettingLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);
    private const string WrongPassword = "Wrong-password-4711";

    private SshdServer _sshd = null!;
    private string _temp = null!;
    private string _passwordVariable = null!;
    private string _token = null!;
    private readonly List<string> _log = [];

    /// <summary>How long the last refused input took (<see cref="RefusedFast{TException}"/>).</summary>
    private TimeSpan _lastRefusal;

    private string ProfilePath => Path.Combine(_temp, "profiles", "bad-input.yaml");
    private string KnownHosts => Path.Combine(_temp, "known_hosts.json");
    private string Ledger => Path.Combine(_temp, "ledger", "fault-ledger.jsonl");

    /// <summary>A kubeconfig the control plane serves, pointing at an API that is not there (the baseline's only flaw).</summary>
    private string Kubeconfig => Path.Combine(_temp, "admin.conf");
    private int ApiPort { get; set; }

    [OneTimeSetUp]
    public async Task StartSshd() => _sshd = await SshdServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopSshd()
    {
        if (_sshd is not null) await _sshd.DisposeAsync();
    }

    [SetUp]
    public void WriteBaseline()
    {
        _temp = Directory.CreateTempSubdirectory("harness-bad-input-").FullName;
        Directory.CreateDirectory(Path.GetDirectoryName(ProfilePath)!);
        _passwordVariable = "BAD_INPUT_PASSWORD_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        _token = "bad-input-token-" + Guid.NewGuid().ToString("N");
        ApiPort = SshdServer.FreePort();
        File.WriteAllText(Kubeconfig, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: bad-input
              cluster:
                server: https://127.0.0.1:{{ApiPort}}
                insecure-skip-tls-verify: true
            contexts:
            - name: bad-input
              context: {cluster: bad-input, user: bad-input}
            current-context: bad-input
            users:
            - name: bad-input
              user: {token: {{_token}}}

            """);
        _log.Clear();
    }

    [TearDown]
    public void RemoveTemp()
    {
        Environment.SetEnvironmentVariable(_passwordVariable, null);
        Directory.Delete(_temp, recursive: true);
    }

    /// <summary>
    /// A static profile for two nodes on the test sshd, logging in as root with the key it accepts. Nothing in it is wrong
    /// except that no API answers at its kubeconfig's address; each test breaks one more thing.
    /// </summary>
    private string Yaml(string host = "127.0.0.1", int? port = null) => $$"""
        name: bad-input
        discovery:
          mode: static
          nodes:
            - {name: m-k8s, host: {{host}}, port: {{port ?? _sshd.Port}}}
            - {name: w1-k8s, host: {{host}}, port: {{port ?? _sshd.Port}}}
        login:
          user: root
          privateKey: {{_sshd.UserKeyPath}}
          knownHostsFile: {{KnownHosts}}
        controlPlane: m-k8s
        workers: [w1-k8s]
        faultTargets: [w1-k8s]
        kubernetes:
          adminKubeconfig: {{Kubeconfig}}
        timeouts:
          connectSeconds: 10
        safety:
          ledgerFile: {{Ledger}}

        """;

    /// <summary>The baseline with dotted overrides, as run parameters give them (<c>login.user=…</c>).</summary>
    private ClusterProfile Profile(params (string Key, string Value)[] overrides) =>
        ProfileLoader.Parse(Yaml(), ProfilePath, overrides.ToDictionary(o => o.Key, o => o.Value));

    /// <summary>Log in as the sudo user with the password from an environment variable (null: the variable is not set).</summary>
    private (string, string)[] PasswordLogin(string? password)
    {
        Environment.SetEnvironmentVariable(_passwordVariable, password);
        return [("login.user", _sshd.SudoUser.Name), ("login.privateKey", ""), ("login.passwordVariable", _passwordVariable)];
    }

    private (string, string)[] Vagrant(string directory) => [("discovery.mode", "vagrant"), ("discovery.vagrantDirectory", directory)];

    private string VagrantDirectory(bool withVagrantfile = true)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_temp, "cluster")).FullName;
        if (withVagrantfile) File.WriteAllText(Path.Combine(directory, "Vagrantfile"), "# the book's Vagrantfile\n");
        return directory;
    }

    private Task<ClusterUnreachableException> ConnectRefused(ClusterProfile profile, params string[] namesToFix) =>
        RefusedFast<ClusterUnreachableException>(() => Cluster.ConnectAsync(profile, _log.Add, CancellationToken.None),
            ["profile 'bad-input'", .. namesToFix]);

    /// <summary>A node setting discovery refutes: a <see cref="ProfileException"/> from the real entry point, before any login.</summary>
    private async Task ConnectRefusedAsBadSetting(ClusterProfile profile, params string[] namesToFix)
    {
        var error = await RefusedFast<ProfileException>(() => Cluster.ConnectAsync(profile, _log.Add, CancellationToken.None),
            [$"Profile {ProfilePath} cannot be used: ", .. namesToFix]);
        Assert.That(error.IsNodeSetting, Is.True);
        Assert.That(_log, Has.None.StartsWith("logged in"), "refused before logging in to any node");
    }

    /// <summary>A setting the profile refutes on loading, within <see cref="SettingLimit"/>.</summary>
    private async Task SettingRefused(Action load, params string[] namesToFix)
    {
        await Refused<ProfileException>(load, [$"Profile {ProfilePath} cannot be used: ", .. namesToFix]);
        Assert.That(_lastRefusal, Is.LessThan(SettingLimit));
    }

    /// <summary>For the loaders that refuse at once, without I/O to a node (profiles, manifests).</summary>
    private Task<TException> Refused<TException>(Action load, params string[] namesToFix) where TException : Exception =>
        RefusedFast<TException>(() => { load(); return Task.CompletedTask; }, namesToFix);

    /// <summary>The contract of every row: this exception type, one line naming each thing to fix, no secret, under 15 s, no ledger.</summary>
    private async Task<TException> RefusedFast<TException>(Func<Task> input, params string[] namesToFix) where TException : Exception
    {
        var clock = Stopwatch.StartNew();
        var error = (await Assert.ThrowsAsync<TException>(async () => await input().WaitAsync(HangGuard)))!;
        clock.Stop();
        _lastRefusal = clock.Elapsed;
        TestContext.Progress.WriteLine($"bad-input | {TestContext.CurrentContext.Test.Name} | {clock.Elapsed.TotalSeconds:0.00} s | {error.Message}");

        var everythingShown = string.Join("\n", [error.ToString(), .. _log]);
        Assert.Multiple(() =>
        {
            foreach (var name in namesToFix) Assert.That(error.Message, Does.Contain(name));
            Assert.That(error.Message, Does.Not.Contain('\n'), "one message, on one line");
            foreach (var secret in new[] { WrongPassword, _sshd.SudoUser.Password, _sshd.PlainUser.Password, _token, "PRIVATE KEY" })
                Assert.That(everythingShown, Does.Not.Contain(secret), "a secret leaked into the message or the log");
            Assert.That(clock.Elapsed, Is.LessThan(Limit), "bad input must be refused within 15 s");
            Assert.That(File.Exists(Ledger), Is.False, "nothing may be injected, so no fault ledger may appear");
        });
        return error;
    }

    // ---- logging in ----

    [Test]
    public Task WrongPassword_SaysThePasswordWasRejected_NamingTheVariable() =>
        ConnectRefused(Profile(PasswordLogin(WrongPassword)),
            $"login as '{_sshd.SudoUser.Name}' to m-k8s (127.0.0.1:{_sshd.Port}) failed: password rejected",
            $"check the password in environment variable {_passwordVariable}");

    [Test]
    public Task PasswordVariableNotSet_NamesTheVariableToExport() =>
        ConnectRefused(Profile(PasswordLogin(password: null)),
            $"environment variable {_passwordVariable} is not set", $"Export {_passwordVariable}");

    [Test]
    public async Task WrongKey_SaysTheKeyWasRejected_NamingTheKeyFile()
    {
        var stranger = await _sshd.NewUserKeyAsync("stranger_" + Guid.NewGuid().ToString("N")[..6]);
        await ConnectRefused(Profile(("login.privateKey", stranger)),
            $"login as 'root' to m-k8s (127.0.0.1:{_sshd.Port}) failed: key {stranger} rejected", "~root/.ssh/authorized_keys");
    }

    [Test]
    public Task KeyFileMissing_NamesThePath() =>
        ConnectRefused(Profile(("login.privateKey", Path.Combine(_temp, "no-such-key"))),
            $"Private key file {Path.Combine(_temp, "no-such-key")} for m-k8s does not exist", "Fix the private key path");

    [Test]
    public Task KeyFileNotAKey_NamesThePathAndTheFormatsExpected()
    {
        File.WriteAllText(Path.Combine(_temp, "id_ed25519.pub"), File.ReadAllText(_sshd.UserKeyPath + ".pub"));
        return ConnectRefused(Profile(("login.privateKey", Path.Combine(_temp, "id_ed25519.pub"))),
            $"File {Path.Combine(_temp, "id_ed25519.pub")} for m-k8s is not a private key", "OpenSSH");
    }

    [Test]
    public Task WrongUser_NamesTheUserToCheck() =>
        ConnectRefused(Profile(("login.user", "nosuchuser")),
            "login as 'nosuchuser' to m-k8s", "user 'nosuchuser' exists on the node");

    // ---- reaching the node ----

    [Test]
    public Task UnknownHost_SaysTheNameDoesNotResolve() =>
        ConnectRefused(ProfileLoader.Parse(Yaml(host: "no-such-node.invalid"), ProfilePath),
            $"Cannot reach m-k8s at no-such-node.invalid:{_sshd.Port}", "the host name 'no-such-node.invalid' does not resolve");

    [Test]
    public Task ClosedPort_SaysConnectionRefused_NamingHostAndPort()
    {
        var closed = SshdServer.FreePort();
        return ConnectRefused(ProfileLoader.Parse(Yaml(port: closed), ProfilePath),
            $"Cannot reach m-k8s at 127.0.0.1:{closed}: connection refused", $"sshd listening on port {closed}");
    }

    [Test]
    public Task HostKeyChanged_NamesTheEntryToRemoveAndTheFile()
    {
        var recorded = "SHA256:" + Convert.ToBase64String(new byte[32]).TrimEnd('=');
        File.WriteAllText(KnownHosts, $$"""{ "127.0.0.1:{{_sshd.Port}}": "{{recorded}}" }""");
        return ConnectRefused(Profile(),
            $"Host key of m-k8s at 127.0.0.1:{_sshd.Port} has changed: recorded {recorded}, offered SHA256:",
            $"remove the entry \"127.0.0.1:{_sshd.Port}\" from {KnownHosts}");
    }

    // ---- the cluster behind the nodes ----

    [Test]
    public Task NoKubeconfigOnTheControlPlane_NamesThePathAndTheNode()
    {
        var missing = Path.Combine(_temp, "no-such-admin.conf");
        return ConnectRefused(Profile(("kubernetes.adminKubeconfig", missing)),
            $"no kubeconfig at {missing} on the control plane m-k8s (the file does not exist)",
            "Fix 'controlPlane' or 'kubernetes.adminKubeconfig'");
    }

    /// <summary>As the lab logs in (a sudo user, not root): the kubeconfig is read through sudo, not SFTP.</summary>
    [Test]
    public Task NoKubeconfigOnTheControlPlane_ReadThroughSudo_NamesThePathAndTheNode()
    {
        var missing = Path.Combine(_temp, "no-such-admin.conf");
        return ConnectRefused(Profile([.. PasswordLogin(_sshd.SudoUser.Password), ("kubernetes.adminKubeconfig", missing)]),
            $"no kubeconfig at {missing} on the control plane m-k8s (sh: 1: cannot open {missing}: No such file)",
            "Fix 'controlPlane' or 'kubernetes.adminKubeconfig'");
    }

    /// <summary>The baseline itself: logged in and fetched the kubeconfig, but nothing answers at the API's address.</summary>
    [Test]
    public async Task ApiUnreachable_SaysTheApiDidNotAnswer_NamingTheAddress()
    {
        await ConnectRefused(Profile(),
            $"the Kubernetes API at https://127.0.0.1:{ApiPort} did not answer", "Set 'kubernetes.apiServer'");
        Assert.That(_log, Does.Contain("logged in to m-k8s, w1-k8s"), "only the API was wrong");
    }

    // ---- Vagrant discovery (a stand-in `vagrant` on this process's PATH; the real one is never run) ----

    [Test]
    public Task VagrantDirectoryWithoutVagrantfile_NamesTheDirectory()
    {
        var directory = VagrantDirectory(withVagrantfile: false);
        return ConnectRefused(Profile(Vagrant(directory)), $"{directory} has no Vagrantfile", "'discovery.vagrantDirectory'");
    }

    [Test]
    public Task VagrantDirectoryMissing_NamesTheDirectory()
    {
        var directory = Path.Combine(_temp, "no-such-cluster");
        return ConnectRefused(Profile(Vagrant(directory)),
            $"The Vagrant directory {directory} does not exist", "'discovery.vagrantDirectory'");
    }

    [Test]
    public async Task VagrantNotInstalled_SaysToInstallIt()
    {
        using var vagrant = StandInVagrant.NotInstalled(_temp);
        var error = await ConnectRefused(Profile(Vagrant(VagrantDirectory())),
            "`vagrant` is not installed or not on PATH. Install Vagrant");
        Assert.That(error.Message, Does.Not.Contain("inner exception"), "the process library's wording is noise here");
    }

    [Test]
    public async Task VagrantNodeNotRunning_NamesItAndSaysVagrantUp()
    {
        var directory = VagrantDirectory();
        // Awaited inside the using: returning the Task would put PATH back while the harness still runs `vagrant`.
        using var vagrant = StandInVagrant.Reporting(_temp, _sshd.Port, ("m-k8s", "running"), ("w1-k8s", "poweroff"));
        await ConnectRefused(Profile(Vagrant(directory)),
            "Vagrant machine w1-k8s is not running (state: poweroff)", $"`vagrant up w1-k8s` in {directory}");
    }

    [Test]
    public async Task UnknownNodeName_NotInVagrant_NamesItAndTheMachinesVagrantHas()
    {
        var directory = VagrantDirectory();
        // Awaited inside the using: `vagrant ssh-config` runs after an await, and must still find the stand-in.
        using var vagrant = StandInVagrant.Reporting(_temp, _sshd.Port, ("m-k8s", "running"), ("w1-k8s", "running"));
        await ConnectRefusedAsBadSetting(Profile([.. Vagrant(directory), ("workers", "w1-k8s,w4-k8s")]),
            $"Vagrant in {directory} has no machine for node w4-k8s (machines: m-k8s, w1-k8s;", "Fix 'controlPlane'/'workers'");
    }

    /// <summary>The workers are Vagrant's machines (none listed): a fault target is checked against them right after
    /// discovery, before anything logs in.</summary>
    [Test]
    public async Task FaultTargetNotADiscoveredWorker_NamesTheTargetAndTheWorkers()
    {
        var directory = VagrantDirectory();
        using var vagrant = StandInVagrant.Reporting(_temp, _sshd.Port, ("m-k8s", "running"), ("w1-k8s", "running"));
        await ConnectRefusedAsBadSetting(Profile([.. Vagrant(directory), ("workers", ""), ("faultTargets", "w2-k8s")]),
            "fault target 'w2-k8s' is not a node of this cluster (m-k8s, w1-k8s); 'faultTargets' takes workers only (w1-k8s)");
        Assert.That(_lastRefusal, Is.LessThan(SettingLimit));
    }

    [Test]
    public async Task VagrantMachineWhoseHostnameIsNotItsNode_NamesBoth()
    {
        // The stand-in's machines are this test's sshd, whose hostname is this machine's, not m-k8s.
        using var vagrant = StandInVagrant.Reporting(_temp, _sshd.Port, ("m-k8s", "running"), ("w1-k8s", "running"));
        await ConnectRefused(Profile(Vagrant(VagrantDirectory())),
            $"The machine taken for node m-k8s has hostname {System.Net.Dns.GetHostName().Split('.')[0]}", "'discovery.machineNames'");
    }

    // ---- profile files ----

    [Test]
    public Task UnknownNodeName_NotInTheStaticList_NamesIt() =>
        Refused<ProfileException>(() => Profile(("workers", "w1-k8s,w4-k8s")),
            $"Profile {ProfilePath} cannot be used", "node 'w4-k8s' has no entry under 'discovery.nodes'");

    [Test]
    public Task FaultTargetNotANode_NamesTheTargetAndTheNodes() =>
        Refused<ProfileException>(() => Profile(("faultTargets", "w1-k8s,w9-k8s")),
            $"Profile {ProfilePath} cannot be used", "fault target 'w9-k8s' is not a node of this profile (m-k8s, w1-k8s)");

    [Test]
    public Task FaultTargetIsTheControlPlane_SaysWorkersOnly() =>
        SettingRefused(() => Profile(("faultTargets", "m-k8s")),
            "fault target 'm-k8s' is the control plane; 'faultTargets' takes workers only (w1-k8s); " +
            "control-plane components are stopped through 'components.stoppable'");

    // ---- numbers (issue 18): each numeric setting within its limits, named as the run parameter names it ----

    [Test]
    public Task NegativeTimeout_NamesTheSettingAndTheSecondsAllowed() =>
        SettingRefused(() => Profile(("timeouts.podReadySeconds", "-5")),
            "'timeouts.podReadySeconds' is -5; give a number of seconds from 1 to 3600");

    /// <summary>curl's --connect-timeout 0 is "no limit": the run passed with it before.</summary>
    [Test]
    public Task ZeroTimeout_NamesTheSettingAndTheSecondsAllowed() =>
        SettingRefused(() => Profile(("timeouts.curlSeconds", "0")),
            "'timeouts.curlSeconds' is 0; give a number of seconds from 1 to 600");

    [Test]
    public Task UnknownProfile_NamesTheFileLookedForAndTheKnownProfiles()
    {
        File.WriteAllText(ProfilePath, Yaml());
        var profiles = Path.GetDirectoryName(ProfilePath)!;
        return Refused<ProfileException>(() => ProfileLoader.Load("bad-inptu", profiles),
            $"Unknown profile 'bad-inptu': no file {Path.Combine(profiles, "bad-inptu.yaml")}", "Known profiles: bad-input");
    }

    [Test]
    public Task MalformedProfile_NamesTheFileLineAndColumn()
    {
        File.WriteAllText(ProfilePath, Yaml().Replace("workers: [w1-k8s]", "workers: [w1-k8s"));
        return Refused<ProfileException>(() => ProfileLoader.Load(ProfilePath, _temp),
            $"Profile {ProfilePath} is malformed at line 12, column 10");
    }

    [Test]
    public Task MisspelledProfileKey_NamesTheKey()
    {
        File.WriteAllText(ProfilePath, Yaml().Replace("controlPlane:", "controlplane:"));
        return Refused<ProfileException>(() => ProfileLoader.Load(ProfilePath, _temp),
            $"Profile {ProfilePath} is malformed at line 11, column 1", "'controlplane'");
    }

    // ---- manifests ----

    [Test]
    public async Task MissingManifest_NamesTheFileAndHowToRestoreIt()
    {
        var manifests = new Manifests(Directory.CreateDirectory(Path.Combine(_temp, "manifests")).FullName);
        await Refused<ManifestException>(() => manifests.Pod("nginx-pod", "nginx", "w1-k8s"),
            $"Manifest {Path.Combine(manifests.Directory, "nginx-pod.yaml")} is missing", "git checkout -- fixtures/manifests/nginx-pod.yaml");
    }
}
