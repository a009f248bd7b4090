using Harness.Nodes;
using NUnit.Framework;

namespace Harness.Tests.Nodes;

public sealed class SshConfigParserTests
{
    [Test]
    public void BookVirtualBoxConfig_GivesFourNodesOnForwardedLoopbackPorts_WithQuotedKeyPaths()
    {
        var hosts = SshConfigParser.Parse(VagrantSamples.BookVirtualBoxSshConfig);

        Assert.That(hosts.Select(h => (h.Name, h.HostName, h.Port, h.User)), Is.EqualTo(new[]
        {
            ("m-k8s", "127.0.0.1", 60010, "vagrant"), ("w1-k8s", "127.0.0.1", 60101, "vagrant"),
            ("w2-k8s", "127.0.0.1", 60102, "vagrant"), ("w3-k8s", "127.0.0.1", 60103, "vagrant"),
        }));
        Assert.That(hosts[1].IdentityFiles, Is.EqualTo(new[] { "C:/HashiCorp/Vagrant Projects/ch3/3.1.3/.vagrant/machines/w1-k8s/virtualbox/private_key" }));
        Assert.That(hosts[1].Options["StrictHostKeyChecking"], Is.EqualTo("no"));
        Assert.That(hosts[1].Options["identitiesonly"], Is.EqualTo("yes"), "keywords are case-insensitive");
    }

    [Test]
    public void DockerProviderConfig_GivesContainerAddressesOnPort22()
    {
        var endpoints = SshConfigParser.Parse(VagrantSamples.LabDockerSshConfig).Select(h => h.ToEndpoint(origin: "profile lab")).ToList();

        Assert.That(endpoints.Select(e => (e.Name, e.Address, e.User, e.UseSudo)), Is.EqualTo(new[]
        {
            ("m-k8s", "192.168.1.10:22", "vagrant", true), ("w1-k8s", "192.168.1.101:22", "vagrant", true),
        }));
        Assert.That(endpoints[1].Credentials.PrivateKeyPath, Is.EqualTo("/root/lab/.vagrant/machines/w1-k8s/docker/private_key"));
        Assert.That(endpoints[1].Origin, Is.EqualTo("profile lab"));
    }

    [Test]
    public void ToEndpoint_WithTheBooksRootLogin_KeepsTheAddressAndUsesTheGivenCredentials()
    {
        var w1 = SshConfigParser.Parse(VagrantSamples.BookVirtualBoxSshConfig)[1];

        var endpoint = w1.ToEndpoint("root", new NodeCredentials(password: "book-root-password", passwordSource: "the book profile"));

        Assert.That((endpoint.Address, endpoint.User, endpoint.UseSudo, endpoint.Credentials.PrivateKeyPath),
            Is.EqualTo(("127.0.0.1:60101", "root", false, (string?)null)));
    }

    [Test]
    public void EqualsSignsCommentsAndGlobalOptions_AreUnderstood()
    {
        var hosts = SshConfigParser.Parse("""
            # written by hand
            ServerAliveInterval 5
            Host node-a
                HostName=10.0.0.5
                Port = 2222
                User root
                IdentityFile ~/.ssh/id_ed25519
                IdentityFile /second/key
            """);

        Assert.That((hosts.Single().HostName, hosts[0].Port, hosts[0].User), Is.EqualTo(("10.0.0.5", 2222, "root")));
        Assert.That(hosts[0].IdentityFiles, Has.Count.EqualTo(2));
        Assert.That(hosts[0].IdentityFiles[0], Does.EndWith("/.ssh/id_ed25519").And.Not.StartWith("~"));
        Assert.That(hosts[0].Options.ContainsKey("ServerAliveInterval"), Is.False);
    }

    [Test]
    public void ProxyCommandHost_IsRefusedWithAClearMessage()
    {
        var host = SshConfigParser.Parse("""
            Host w1-k8s
              HostName 172.17.0.3
              User vagrant
              Port 22
              IdentityFile /home/u/lab/.vagrant/machines/w1-k8s/docker/private_key
              ProxyCommand ssh -q -i /home/u/.vagrant.d/insecure_private_key -p 2222 vagrant@127.0.0.1 nc %h %p
            """).Single();

        var error = Assert.Throws<NodeAccessException>(() => host.ToEndpoint(origin: "profile lab"))!;
        Assert.That(error.Message, Does.StartWith("w1-k8s is reached through ProxyCommand 'ssh -q -i").And.Contain("(profile lab)"));
    }
}
