using Harness.Nodes;
using Harness.Profiles;
using Harness.Tests.BadInput;
using NUnit.Framework;

namespace Harness.Tests.Nodes;

/// <summary>From Vagrant's machines to the profile's nodes: the book's names, the revised edition's, any number of workers.</summary>
[TestFixture, NonParallelizable, System.Runtime.Versioning.SupportedOSPlatform("linux")] // StandInVagrant changes PATH for the whole process
public sealed class NodeDiscoveryTests
{
    private string _temp = null!;

    [SetUp]
    public void MakeTemp()
    {
        _temp = Directory.CreateTempSubdirectory("node-discovery-").FullName;
        File.WriteAllText(Path.Combine(_temp, "Vagrantfile"), "# stand-in\n");
    }

    [TearDown]
    public void RemoveTemp() => Directory.Delete(_temp, recursive: true);

    private ClusterProfile Profile(string controlPlane, string machineNames = "{node}", string workers = "") =>
        ProfileLoader.Parse($"""
            name: discovery
            discovery:
              mode: vagrant
              vagrantDirectory: {_temp}
              machineNames: "{machineNames}"
            login:
              privateKey: {Path.Combine(_temp, "key")}
            controlPlane: {controlPlane}
            {workers}
            """, Path.Combine(_temp, "discovery.yaml"));

    [TestCase("{node}", "m-k8s", ExpectedResult = "m-k8s")]
    [TestCase("{node}-*", "cp-k8s-1.36.0", ExpectedResult = "cp-k8s")]
    [TestCase("{node}-*", "w12-k8s-1.36.0", ExpectedResult = "w12-k8s")]
    [TestCase("{node}", "cp-k8s-1.36.0", ExpectedResult = "cp-k8s-1.36.0")]
    [TestCase("{node}-*", "m-k8s", ExpectedResult = "m")] // the hostname check at login catches a pattern that does not fit
    [TestCase("lab-{node}", "m-k8s", ExpectedResult = null)]
    public string? MachineNameToNodeName(string pattern, string machine) => NodeDiscovery.NodeName(pattern, machine);

    [Test]
    public async Task TheBooksTwoWorkers_AreTheWorkersAndTheFaultTargets()
    {
        using var vagrant = StandInVagrant.Reporting(_temp, 22, ("m-k8s", "running"), ("w1-k8s", "running"), ("w2-k8s", "running"));
        var (endpoints, profile) = await NodeDiscovery.DiscoverAsync(Profile("m-k8s"), CancellationToken.None);

        Assert.That(profile.Workers, Is.EqualTo(new[] { "w1-k8s", "w2-k8s" }), "N = 2 in the Vagrantfile: two workers");
        Assert.That(profile.FaultTargets, Is.EqualTo(new[] { "w1-k8s", "w2-k8s" }), "every worker, never the control plane");
        Assert.That(endpoints.Select(e => e.Name), Is.EquivalentTo(new[] { "m-k8s", "w1-k8s", "w2-k8s" }));
    }

    [Test]
    public async Task TheRevisedEditionsMachineNames_MapToItsNodeNames()
    {
        using var vagrant = StandInVagrant.Reporting(_temp, 22,
            ("cp-k8s-1.36.0", "running"), ("w10-k8s-1.36.0", "running"), ("w2-k8s-1.36.0", "running"), ("w1-k8s-1.36.0", "running"));
        var (endpoints, profile) = await NodeDiscovery.DiscoverAsync(Profile("cp-k8s", "{node}-*"), CancellationToken.None);

        Assert.That(profile.ControlPlane, Is.EqualTo("cp-k8s"));
        Assert.That(profile.Workers, Is.EqualTo(new[] { "w1-k8s", "w2-k8s", "w10-k8s" }), "in the Vagrantfile's order: w2 before w10");
        Assert.That(endpoints.Select(e => e.Name), Is.EquivalentTo(new[] { "cp-k8s", "w1-k8s", "w2-k8s", "w10-k8s" }));
        Assert.That(endpoints.First(e => e.Name == "cp-k8s").Origin, Does.Contain("machine cp-k8s-1.36.0"), "errors name the machine too");
    }

    [Test]
    public async Task ListedWorkers_AreKeptAndOnlyThoseAreUsed()
    {
        using var vagrant = StandInVagrant.Reporting(_temp, 22, ("m-k8s", "running"), ("w1-k8s", "running"), ("w2-k8s", "running"));
        var (endpoints, profile) = await NodeDiscovery.DiscoverAsync(Profile("m-k8s", workers: "workers: [w2-k8s]"), CancellationToken.None);

        Assert.That(profile.Workers, Is.EqualTo(new[] { "w2-k8s" }));
        Assert.That(endpoints.Select(e => e.Name), Is.EquivalentTo(new[] { "m-k8s", "w2-k8s" }));
    }

    [Test]
    public async Task AControlPlaneNoMachineIs_IsNamedWithTheMachinesAndThePattern()
    {
        using var vagrant = StandInVagrant.Reporting(_temp, 22, ("cp-k8s-1.36.0", "running"), ("w1-k8s-1.36.0", "running"));
        var error = await Assert.ThrowsAsync<ProfileException>(() => NodeDiscovery.DiscoverAsync(Profile("cp-k8s"), CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("no machine for the control plane cp-k8s (machines: cp-k8s-1.36.0, w1-k8s-1.36.0; 'discovery.machineNames' is '{node}')"));
    }

    [Test]
    public async Task AFaultTargetThatIsNoDiscoveredNode_IsNamed()
    {
        using var vagrant = StandInVagrant.Reporting(_temp, 22, ("m-k8s", "running"), ("w1-k8s", "running"), ("w2-k8s", "running"));
        var error = await Assert.ThrowsAsync<ProfileException>(() =>
            NodeDiscovery.DiscoverAsync(Profile("m-k8s", workers: "faultTargets: [w3-k8s]"), CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("fault target 'w3-k8s' is not a node of this cluster (m-k8s, w1-k8s, w2-k8s)"));
    }
}
