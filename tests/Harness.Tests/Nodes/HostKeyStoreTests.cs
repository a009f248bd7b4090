using System.Text.Json;
using Harness.Nodes;
using NUnit.Framework;

namespace Harness.Tests.Nodes;

public sealed class HostKeyStoreTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateDirectory() => _dir = Directory.CreateTempSubdirectory("harness-hostkeys-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void FirstContact_IsRecorded_ADifferentKeyLater_IsRefused_AndTheFileSurvivesARestart()
    {
        var path = Path.Combine(_dir, "nested", "known-hosts.json");
        Assert.That(new HostKeyStore(path).TryTrust("127.0.0.1", 60101, "SHA256:first", out _), Is.True);

        var reopened = new HostKeyStore(path);
        Assert.That(reopened.TryTrust("127.0.0.1", 60101, "SHA256:first", out _), Is.True);
        Assert.That(reopened.TryTrust("127.0.0.1", 60101, "SHA256:other", out var recorded), Is.False);
        Assert.That(recorded, Is.EqualTo("SHA256:first"));
        Assert.That(JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)),
            Is.EqualTo(new Dictionary<string, string> { ["127.0.0.1:60101"] = "SHA256:first" }));

        reopened.Remove("127.0.0.1", 60101);
        Assert.That(reopened.TryTrust("127.0.0.1", 60101, "SHA256:other", out _), Is.True, "after removal the new key is trusted");
    }

    [Test]
    public async Task ConcurrentFirstContacts_AreAllRecorded_WithNoTemporaryFilesLeft()
    {
        var path = Path.Combine(_dir, "known-hosts.json");

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            new HostKeyStore(path).TryTrust("10.0.0.1", 2000 + i, $"SHA256:key{i}", out _))));

        Assert.That(JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)), Has.Count.EqualTo(40));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void CorruptFile_SaysWhichFileToFix()
    {
        var path = Path.Combine(_dir, "known-hosts.json");
        File.WriteAllText(path, "{ not json");

        var error = Assert.Throws<NodeAccessException>(() => new HostKeyStore(path).Get("h", 22))!;

        Assert.That(error.Message, Does.StartWith($"The host key file {path} is not valid JSON"));
    }
}
