using Harness.Nodes;
using Harness.Text;
using NUnit.Framework;

namespace Harness.Tests.Nodes;

public sealed class NodeEndpointTests
{
    [Test]
    public void UseSudo_FollowsTheUser_EvenThroughWith()
    {
        var root = new NodeEndpoint("w1-k8s", "127.0.0.1", 60101, "root", new NodeCredentials(privateKeyPath: "/k"));

        Assert.That((root.UseSudo, (root with { User = "vagrant" }).UseSudo, (root with { User = "vagrant", UseSudo = false }).UseSudo),
            Is.EqualTo((false, true, false)));
    }

    [Test]
    public void ToString_NamesTheKeyAndThePasswordSource_NeverThePassword()
    {
        var endpoint = new NodeEndpoint("m-k8s", "127.0.0.1", 60010, "root",
            new NodeCredentials("/keys/m-k8s", "s3cret-root-pw", "environment variable NODE_PASSWORD"));

        Assert.That(endpoint.ToString(), Is.EqualTo(
            "m-k8s (root@127.0.0.1:60010, key /keys/m-k8s, password from environment variable NODE_PASSWORD)"));
        Assert.That(Harness.Text.Secrets.Redact("pw=s3cret-root-pw"), Is.EqualTo("pw=***"), "the password is registered for redaction");
    }

    [Test]
    public void Credentials_WithNeitherKeyNorPassword_AreRefused() =>
        Assert.Throws<ArgumentException>(() => _ = new NodeCredentials());
}
