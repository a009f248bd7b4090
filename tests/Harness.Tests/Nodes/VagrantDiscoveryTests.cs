using Harness.Nodes;
using NUnit.Framework;

namespace Harness.Tests.Nodes;

/// <summary>Discovery through CliWrap against a stand-in `vagrant` script that prints the real tool's output.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class VagrantDiscoveryTests
{
    private string _dir = null!;
    private string _vagrant = null!;

    [SetUp]
    public void CreateClusterDirectory()
    {
        _dir = Directory.CreateTempSubdirectory("harness-vagrant-").FullName;
        File.WriteAllText(Path.Combine(_dir, "Vagrantfile"), "# the book's Vagrantfile\n");
        _vagrant = Path.Combine(_dir, "fake-vagrant");
    }

    [TearDown]
    public void RemoveClusterDirectory() => Directory.Delete(_dir, recursive: true);

    /// <param name="sshConfigFails">What real Vagrant prints when a machine is not running: ssh-config then exits 1.</param>
    private void FakeVagrant(string status, string sshConfig, string extra = "", string? sshConfigFails = null)
    {
        File.WriteAllText(Path.Combine(_dir, "status.out"), status);
        File.WriteAllText(Path.Combine(_dir, "ssh-config.out"), sshConfig);
        var failing = sshConfigFails is null ? "" : $"[ \"$1\" = ssh-config ] && {{ echo '{sshConfigFails}' >&2; exit 1; }}";
        File.WriteAllText(_vagrant, $"""
            #!/bin/sh
            echo "$*" >> calls.log
            {extra}
            [ "$1 $2" = "status --machine-readable" ] && exec cat status.out
            {failing}
            [ "$1" = "ssh-config" ] && exec cat ssh-config.out
            echo "unexpected: $*" >&2; exit 64

            """);
        File.SetUnixFileMode(_vagrant, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Test]
    public void ParseStatus_ReadsEachMachinesStateAndProvider()
    {
        var machines = VagrantDiscovery.ParseStatus(VagrantSamples.BookVirtualBoxStatus);

        Assert.That(machines.Select(m => (m.Name, m.State, m.Provider)), Is.EqualTo(new[]
        {
            ("m-k8s", "running", "virtualbox"), ("w1-k8s", "running", "virtualbox"),
            ("w2-k8s", "poweroff", "virtualbox"), ("w3-k8s", "running", "virtualbox"),
        }));
    }

    [Test]
    public async Task DiscoverAsync_AllRunning_ReturnsTheNodes_AndPassesTheExtraEnvironment()
    {
        FakeVagrant(VagrantSamples.LabDockerStatus, VagrantSamples.LabDockerSshConfig,
            extra: """[ "$DOCKER_HOST" = "unix:///run/podman/podman.sock" ] || { echo "DOCKER_HOST not passed" >&2; exit 3; }""");
        var discovery = new VagrantDiscovery(_dir, new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix:///run/podman/podman.sock" },
            executable: _vagrant);

        var hosts = await discovery.DiscoverAsync();

        Assert.That(hosts.Select(h => $"{h.Name}={h.HostName}:{h.Port}"), Is.EqualTo(new[] { "m-k8s=192.168.1.10:22", "w1-k8s=192.168.1.101:22" }));
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "calls.log")), Is.EqualTo(new[] { "ssh-config" }),
            "every machine runs: one vagrant command (each costs seconds of Ruby start-up)");
    }

    [Test]
    public async Task DiscoverAsync_MachineNotRunning_NamesItAndSaysVagrantUp()
    {
        FakeVagrant(VagrantSamples.BookVirtualBoxStatus, VagrantSamples.BookVirtualBoxSshConfig,
            sshConfigFails: "The provider for this Vagrant-managed machine is reporting that it is not yet ready for SSH.");

        var error = (await Assert.ThrowsAsync<VagrantDiscoveryException>(() => new VagrantDiscovery(_dir, executable: _vagrant).DiscoverAsync()))!;

        Assert.That(error.Message, Is.EqualTo(
            $"Vagrant machine w2-k8s is not running (state: poweroff). Start it with `vagrant up w2-k8s` in {_dir}."));
    }

    [Test]
    public async Task DiscoverAsync_NoVagrantfile_SaysWhereToPointTheProfile()
    {
        File.Delete(Path.Combine(_dir, "Vagrantfile"));

        var error = (await Assert.ThrowsAsync<VagrantDiscoveryException>(() => new VagrantDiscovery(_dir, executable: _vagrant).DiscoverAsync()))!;

        Assert.That(error.Message, Does.StartWith($"{_dir} has no Vagrantfile").And.Contain("ch3/3.1.3"));
    }

    [Test]
    public async Task DiscoverAsync_VagrantNotInstalled_SaysSo()
    {
        var error = (await Assert.ThrowsAsync<VagrantDiscoveryException>(() =>
            new VagrantDiscovery(_dir, executable: "vagrant-not-installed-here").DiscoverAsync()))!;

        Assert.That(error.Message, Does.StartWith("`vagrant-not-installed-here` is not installed or not on PATH").And.Contain("apt-get install vagrant"));
    }

    [Test]
    public async Task DiscoverAsync_VagrantFails_ShowsItsError()
    {
        FakeVagrant("", "", extra: """echo "The provider 'virtualbox' that was requested to back the machine 'm-k8s' is reporting that it isn't usable on this system." >&2; exit 1""");

        var error = (await Assert.ThrowsAsync<VagrantDiscoveryException>(() => new VagrantDiscovery(_dir, executable: _vagrant).DiscoverAsync()))!;

        Assert.That(error.Message, Does.StartWith($"`vagrant status --machine-readable` failed in {_dir} (exit 1)").And.Contain("isn't usable"));
    }

    [Test]
    public async Task DiscoverAsync_VagrantHangs_StopsAtTheTimeout()
    {
        FakeVagrant("", "", extra: "sleep 30");

        var error = (await Assert.ThrowsAsync<VagrantDiscoveryException>(() =>
            new VagrantDiscovery(_dir, timeout: TimeSpan.FromSeconds(1), executable: _vagrant).DiscoverAsync()))!;

        Assert.That(error.Message, Does.StartWith("`vagrant ssh-config` did not finish within 1 s"));
    }
}
