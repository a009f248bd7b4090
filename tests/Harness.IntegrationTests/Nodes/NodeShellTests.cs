using NUnit.Framework;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cli = CliWrap.Cli;
using Harness.Nodes;
using Harness.IntegrationTests.Support;

namespace Harness.IntegrationTests.Nodes;

/// <summary>The node shell against a real sshd on loopback (needs root; openssh-server is installed by the test run itself when missing).</summary>
[TestFixture]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NodeShellTests
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Absurd = TimeSpan.FromSeconds(15);
    private SshdServer _sshd = null!;
    private string _temp = null!;
    private HostKeyStore _hostKeys = null!;
    private readonly List<NodeShell> _shells = [];

    [OneTimeSetUp]
    public async Task StartSshd() => _sshd = await SshdServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopSshd()
    {
        if (_sshd is not null) await _sshd.DisposeAsync();
    }

    [SetUp]
    public void FreshHostKeyStore()
    {
        _temp = Directory.CreateTempSubdirectory("harness-nodes-").FullName;
        _hostKeys = new HostKeyStore(Path.Combine(_temp, "known-hosts.json"));
    }

    [TearDown]
    public async Task CloseShells()
    {
        foreach (var shell in _shells) await shell.DisposeAsync();
        _shells.Clear();
        Directory.Delete(_temp, recursive: true);
    }

    private NodeEndpoint Root(string? key = null) =>
        new("w1-k8s", "127.0.0.1", _sshd.Port, "root", new NodeCredentials(privateKeyPath: key ?? _sshd.UserKeyPath)) { Origin = "profile test" };

    private NodeEndpoint SudoUser(string? password = null) =>
        new("w2-k8s", "127.0.0.1", _sshd.Port, _sshd.SudoUser.Name,
            new NodeCredentials(password: password ?? _sshd.SudoUser.Password, passwordSource: "environment variable NODE_PASSWORD"))
        { Origin = "profile test" };

    private async Task<NodeShell> Connect(NodeEndpoint endpoint)
    {
        var shell = await NodeShell.ConnectAsync(endpoint, _hostKeys, ConnectTimeout);
        _shells.Add(shell);
        return shell;
    }

    /// <summary>Runs a bad-input case, bounded so a hang fails rather than blocks the run.</summary>
    private static async Task<TException> FailsFast<TException>(Func<Task> action) where TException : Exception
    {
        var watch = Stopwatch.StartNew();
        var error = await Assert.CatchAsync<TException>(async () => await action().WaitAsync(Absurd + Absurd));
        Assert.That(watch.Elapsed, Is.LessThan(Absurd), "bad input must fail fast");
        TestContext.Out.WriteLine(error!.Message);
        return error;
    }

    // ---- key exchange ----

    /// <summary>
    /// OpenSSH 9.2 (this sshd, the lab's Debian) also offers sntrup761x25519, which SSH.NET would pick first; its managed
    /// NTRU Prime costs about 0.1 s of CPU per connection (10 connections to the lab: 1.35–1.6 s against 0.38–0.57 s).
    /// </summary>
    [Test]
    public async Task ConnectAsync_AgreesOnCurve25519WithAnSshdThatAlsoOffersPostQuantumHybrids()
    {
        using var client = await SshConnector.ConnectSshAsync(Root(), _hostKeys, ConnectTimeout, CancellationToken.None);

        Assert.That(client.ConnectionInfo.CurrentKeyExchangeAlgorithm, Is.EqualTo("curve25519-sha256"));
        Assert.That(client.ConnectionInfo.KeyExchangeAlgorithms.Keys, Does.Contain("sntrup761x25519-sha512"),
            "still offered, after curve25519, for a server that allows nothing else");
    }

    // ---- commands ----

    [Test]
    public async Task RunAsync_ReturnsExitCodeStdoutAndStderr()
    {
        var shell = await Connect(Root());

        var result = await shell.RunAsync("echo out; echo err >&2; exit 3");

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(3));
            Assert.That(result.Succeeded, Is.False);
            Assert.That(result.Stdout, Is.EqualTo("out\n"));
            Assert.That(result.Stderr, Is.EqualTo("err\n"));
            Assert.That(result.Node, Is.EqualTo("w1-k8s"));
        });
        Assert.That((await shell.RunAsync("id -un")).Stdout.Trim(), Is.EqualTo("root"));
    }

    [Test]
    public async Task RunAsync_AsNonRootUser_GoesThroughSudo_AndLoginUserCommandsDoNot()
    {
        var shell = await Connect(SudoUser());

        Assert.That((await shell.RunAsync("id -u")).Stdout.Trim(), Is.EqualTo("0"));
        Assert.That((await shell.RunAsLoginUserAsync("id -un")).Stdout.Trim(), Is.EqualTo(_sshd.SudoUser.Name));
        // Quotes survive the sudo sh -c wrapping.
        Assert.That((await shell.RunAsync("printf '%s|%s' \"it's\" '$HOME'")).Stdout, Is.EqualTo("it's|$HOME"));
    }

    [Test]
    public async Task EnsureSuccess_Throws_NamingNodeCommandExitCodeAndStderr()
    {
        var shell = await Connect(Root());
        var result = await shell.RunAsync("echo 'unit kubelet not found' >&2; exit 5");

        var error = Assert.Throws<NodeCommandFailedException>(() => result.EnsureSuccess())!;

        Assert.That(error.Message, Does.Contain("w1-k8s").And.Contain("exited with 5").And.Contain("exit 5").And.Contain("unit kubelet not found"));
    }

    [Test]
    public async Task RunAsync_PastItsTimeout_ThrowsNodeCommandTimeoutException_AndTheShellStillWorks()
    {
        var shell = await Connect(Root());

        var error = await FailsFast<NodeCommandTimeoutException>(() => shell.RunAsync("sleep 30", TimeSpan.FromSeconds(1)));

        Assert.That(error.Message, Does.Contain("w1-k8s").And.Contain("sleep 30").And.Contain("1 s"));
        Assert.That((await shell.RunAsync("echo still-here")).Stdout, Is.EqualTo("still-here\n"));
    }

    [Test]
    public async Task RunAsync_Cancelled_ThrowsOperationCanceled()
    {
        var shell = await Connect(Root());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        var error = await FailsFast<OperationCanceledException>(() => shell.RunAsync("sleep 30", ct: cts.Token));

        Assert.That(error, Is.Not.InstanceOf<NodeCommandTimeoutException>());
    }

    [Test]
    public void CommandResult_ToString_IsATerminalTranscript()
    {
        var root = new CommandResult("w1-k8s", "systemctl is-active kubelet", 3, "inactive\n", "", TimeSpan.FromSeconds(1));
        var user = new CommandResult("w1-k8s", "whoami", 0, "vagrant", "", TimeSpan.Zero) { User = "vagrant" };

        Assert.That(root.ToString(), Is.EqualTo("[root@w1-k8s ~]# systemctl is-active kubelet\ninactive\n[exit 3]\n"));
        Assert.That(user.ToString(), Is.EqualTo("[vagrant@w1-k8s ~]$ whoami\nvagrant\n"));
    }

    [Test]
    public async Task StartDetachedAsync_ReturnsAtOnce_AndTheCommandRunsAfterwards()
    {
        var shell = await Connect(Root());
        var marker = Path.Combine(_temp, "detached-ran");

        await shell.StartDetachedAsync($"touch {marker}");

        Assert.That(File.Exists(marker), Is.False, "the command is delayed so the session can close first");
        var waited = await shell.RunAsync($"for i in $(seq 50); do [ -e {marker} ] && exit 0; sleep 0.1; done; exit 1");
        Assert.That(waited.Succeeded, Is.True, "the detached command never ran");
    }

    [Test]
    public async Task DownloadAsync_ReadsRootOnlyFiles_OverSftpAsRoot_AndThroughSudoOtherwise()
    {
        var path = Path.Combine(_temp, "admin.conf");
        byte[] content = [0, 1, 2, 255, (byte)'\n', (byte)'k', 0x80];
        await File.WriteAllBytesAsync(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.That(await (await Connect(Root())).DownloadAsync(path), Is.EqualTo(content));
        Assert.That(await (await Connect(SudoUser())).DownloadAsync(path), Is.EqualTo(content));
        await Assert.CatchAsync<FileNotFoundException>(async () => await (await Connect(Root())).DownloadAsync(path + ".missing"));
    }

    [Test]
    public async Task UploadAsync_WritesRootOwnedFiles_DirectlyAsRoot_AndThroughSudoOtherwise()
    {
        byte[] content = [1, 2, 3, (byte)'\n'];
        foreach (var (shell, file) in new[] { (await Connect(Root()), "as-root"), (await Connect(SudoUser()), "via-sudo") })
        {
            var path = Path.Combine(_temp, file);
            await shell.UploadAsync(content, path);

            Assert.That(await File.ReadAllBytesAsync(path), Is.EqualTo(content));
            Assert.That((await shell.RunAsync($"stat -c '%U %a' {path}")).Stdout.Trim(), Is.EqualTo("root 600"));
        }
        Assert.That(Directory.GetFiles("/tmp", ".harness-upload-*"), Is.Empty, "the sudo path cleans up its temporary file");
    }

    // ---- reconnect and reachability ----

    [Test]
    public async Task RunAsync_AfterSshdRestart_ReconnectsTransparently()
    {
        var shell = await Connect(Root());
        await shell.RunAsync("true");

        await _sshd.StopAsync();
        await _sshd.RestartAsync();

        Assert.That((await shell.RunAsync("echo back")).Stdout, Is.EqualTo("back\n"));
    }

    [Test]
    public async Task WaitUntilUnreachable_ThenReachable_FollowsTheServerGoingDownAndUp()
    {
        var shell = await Connect(Root());
        var down = _sshd.StopAsync();

        await shell.WaitUntilUnreachableAsync(TimeSpan.FromSeconds(10));
        await down;
        var unreachable = await FailsFast<NodeUnreachableException>(() => shell.WaitUntilReachableAsync(TimeSpan.FromSeconds(2)));
        Assert.That(unreachable.Message, Does.Contain("w1-k8s").And.Contain("did not become reachable within 2 s").And.Contain("refused"));

        await _sshd.RestartAsync();
        await shell.WaitUntilReachableAsync(TimeSpan.FromSeconds(20));

        Assert.That((await shell.RunAsync("echo up")).Stdout, Is.EqualTo("up\n"));
    }

    [Test]
    public async Task HostKeyChanged_IsRefused_NamingBothFingerprintsAndTheFix()
    {
        var shell = await Connect(Root());
        var recorded = _hostKeys.Get("127.0.0.1", _sshd.Port);
        Assert.That(recorded, Does.StartWith("SHA256:"), "first contact records the key");

        await _sshd.StopAsync();
        await _sshd.RestartAsync(await _sshd.NewHostKeyAsync());
        try
        {
            var fresh = await FailsFast<HostKeyChangedException>(() => Connect(Root()));
            var reconnect = await FailsFast<HostKeyChangedException>(() => shell.RunAsync("true"));

            foreach (var error in new[] { fresh, reconnect })
                Assert.That(error.Message, Does.Contain("w1-k8s").And.Contain($"127.0.0.1:{_sshd.Port}").And.Contain(recorded)
                    .And.Contain("offered SHA256:").And.Contain(_hostKeys.Path).And.Contain("remove the entry"));
            Assert.That(_hostKeys.Get("127.0.0.1", _sshd.Port), Is.EqualTo(recorded), "a refused key is not recorded");
        }
        finally
        {
            await _sshd.StopAsync();
            await _sshd.RestartAsync();
        }
    }

    // ---- bad input: one clear message each, fast ----

    [Test]
    public async Task UnknownHost_SaysTheNameDoesNotResolve()
    {
        var error = await FailsFast<NodeUnreachableException>(() => Connect(Root() with { Host = "no-such-node.invalid" }));
        Assert.That(error.Message, Does.Contain("w1-k8s").And.Contain("'no-such-node.invalid' does not resolve").And.Contain("profile test"));
    }

    [Test]
    public async Task ClosedPort_SaysConnectionRefused()
    {
        var port = SshdServer.FreePort();
        var error = await FailsFast<NodeUnreachableException>(() => Connect(Root() with { Port = port }));
        Assert.That(error.Message, Is.EqualTo(
            $"Cannot reach w1-k8s at 127.0.0.1:{port}: connection refused. Is the node running and is sshd listening on port {port}? (profile test)"));
    }

    [Test]
    public async Task SilentPort_SaysNoAnswerWithinTheTimeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;

        var error = await FailsFast<NodeUnreachableException>(() =>
            NodeShell.ConnectAsync(Root() with { Port = port }, _hostKeys, TimeSpan.FromSeconds(2)));

        Assert.That(error.Message, Does.Contain($"w1-k8s at 127.0.0.1:{port}").And.Contain("no SSH answer within 2 s"));
    }

    [Test]
    public async Task WrongPassword_SaysPasswordRejected_AndWhereThePasswordComesFrom()
    {
        var error = await FailsFast<NodeAuthenticationException>(() => Connect(SudoUser(password: "not-the-password")));
        Assert.That(error.Message, Does.StartWith($"login as '{_sshd.SudoUser.Name}' to w2-k8s (127.0.0.1:{_sshd.Port}) failed: password rejected")
            .And.Contain("check the password in environment variable NODE_PASSWORD"));
    }

    [Test]
    public async Task WrongUser_NamesTheUserToCheck()
    {
        var endpoint = SudoUser() with { User = "nosuchuser" };
        var error = await FailsFast<NodeAuthenticationException>(() => Connect(endpoint));
        Assert.That(error.Message, Does.Contain("login as 'nosuchuser'").And.Contain("user 'nosuchuser' exists on the node"));
    }

    [Test]
    public async Task KeyFileMissing_NamesThePath_BeforeConnecting()
    {
        var path = Path.Combine(_temp, "no-such-key");
        var error = await FailsFast<NodeKeyFileException>(() => Connect(Root(key: path) with { Port = SshdServer.FreePort() }));
        Assert.That(error.Message, Does.Contain($"Private key file {path} for w1-k8s does not exist"));
    }

    [Test]
    public async Task KeyFileUnreadable_NamesThePath()
    {
        var error = await FailsFast<NodeKeyFileException>(() => Connect(Root(key: _temp)));
        Assert.That(error.Message, Does.Contain($"Private key {_temp} for w1-k8s is a directory"));
    }

    [Test]
    public async Task KeyFileNotAKey_NamesThePathAndTheFormatsExpected()
    {
        var path = Path.Combine(_temp, "id_rsa");
        await File.WriteAllTextAsync(path, "this is the public key, not the private one\n");
        var error = await FailsFast<NodeKeyFileException>(() => Connect(Root(key: path)));
        Assert.That(error.Message, Does.Contain($"File {path} for w1-k8s is not a private key").And.Contain("OpenSSH"));
    }

    [Test]
    public async Task KeyFileEncrypted_WithoutPassphrase_SaysSo()
    {
        var path = Path.Combine(_temp, "encrypted_key");
        await Cli.Wrap("ssh-keygen").WithArguments(["-q", "-t", "ed25519", "-N", "key-passphrase", "-f", path]).ExecuteAsync();
        var error = await FailsFast<NodeKeyFileException>(() => Connect(Root(key: path)));
        Assert.That(error.Message, Does.Contain($"Private key file {path} for w1-k8s is encrypted"));
    }

    [Test]
    public async Task KeyRejected_SaysToCheckAuthorizedKeys()
    {
        var stranger = await _sshd.NewUserKeyAsync("stranger_" + Guid.NewGuid().ToString("N")[..6]);
        var error = await FailsFast<NodeAuthenticationException>(() => Connect(Root(key: stranger)));
        Assert.That(error.Message, Does.Contain($"login as 'root' to w1-k8s").And.Contain($"key {stranger} rejected")
            .And.Contain("~root/.ssh/authorized_keys"));
    }

    [Test]
    public async Task SudoNeedsPassword_SaysTheUserNeedsPasswordlessSudo()
    {
        var endpoint = SudoUser() with
        {
            User = _sshd.PlainUser.Name,
            Credentials = new NodeCredentials(password: _sshd.PlainUser.Password, passwordSource: "environment variable NODE_PASSWORD"),
        };
        var error = await FailsFast<NodeSudoException>(() => Connect(endpoint));
        Assert.That(error.Message, Does.StartWith($"User '{_sshd.PlainUser.Name}' needs passwordless sudo on node w2-k8s"));
    }

    [Test]
    public async Task Password_NeverAppearsInMessagesOrToString()
    {
        var password = _sshd.PlainUser.Password;
        var credentials = new NodeCredentials(password: password, passwordSource: "environment variable NODE_PASSWORD");
        var plain = new NodeEndpoint("w3-k8s", "127.0.0.1", _sshd.Port, _sshd.PlainUser.Name, credentials);
        var texts = new List<string> { credentials.ToString(), plain.ToString() };

        texts.Add((await Assert.CatchAsync<NodeAccessException>(() => Connect(plain)))!.ToString());
        texts.Add((await Assert.CatchAsync<NodeAccessException>(() => Connect(plain with { Port = SshdServer.FreePort() })))!.ToString());
        var shell = await Connect(plain with { UseSudo = false });
        var echoed = await shell.RunAsync($"echo {password}; echo {password} >&2; exit 1");
        texts.Add(echoed.ToString());
        texts.Add(Assert.Throws<NodeCommandFailedException>(() => echoed.EnsureSuccess())!.ToString());
        texts.Add((await Assert.CatchAsync<NodeCommandTimeoutException>(() =>
            shell.RunAsync($"sleep 5 # {password}", TimeSpan.FromMilliseconds(300))))!.ToString());

        Assert.That(echoed.Stdout, Does.Contain(password), "the raw output is the caller's to keep");
        foreach (var text in texts) Assert.That(text, Does.Not.Contain(password));
    }
}
