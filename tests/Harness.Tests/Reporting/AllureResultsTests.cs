using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Reporting;
using Harness.Text;
using NUnit.Framework;

namespace Harness.Tests.Reporting;

public class AllureResultsTests
{
    [Test]
    public void StartRun_clears_the_last_run_keeps_history_and_writes_the_run_files()
    {
        using var folder = new ResultsFolder();
        var stale = new[] { "a-result.json", "b-container.json", "c-attachment.txt", "executor.json" }
            .Select(f => Path.Combine(folder.Directory, f)).ToList();
        stale.ForEach(f => File.WriteAllText(f, "old"));
        Directory.CreateDirectory(Path.Combine(folder.Directory, "history"));
        File.WriteAllText(Path.Combine(folder.Directory, "history", "history.json"), "{}");
        Secrets.Register("env-secret-4411");

        AllureResults.StartRun(folder.Writer, new Dictionary<string, string>
        {
            ["profile"] = "book", ["node os"] = "CentOS 7", ["server"] = "https://10.0.0.1:6443", ["password"] = "env-secret-4411",
        }, new Executor("CI") { BuildName = "nightly 12" });

        Assert.That(stale.Where(File.Exists).Select(Path.GetFileName), Is.EqualTo(new[] { "executor.json" }), "only rewritten files remain");
        Assert.That(File.Exists(Path.Combine(folder.Directory, "history", "history.json")), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(folder.Directory, "environment.properties")), Is.EqualTo(
            "profile=book\nnode\\ os=CentOS 7\nserver=https\\://10.0.0.1\\:6443\npassword=***\n"));
        var executor = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Directory, "executor.json"))).RootElement;
        Assert.That(executor.GetProperty("name").GetString(), Is.EqualTo("CI"));
        Assert.That(executor.GetProperty("buildName").GetString(), Is.EqualTo("nightly 12"));
        var categories = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Directory, "categories.json"))).RootElement;
        Assert.That(categories.EnumerateArray().Select(c => c.GetProperty("name").GetString()), Is.EqualTo(new[]
            { "Cluster not healthy: run stopped before any fault", "Run stopped before the checks", "Unreverted fault", "Blocked by an earlier check", "Harness or infrastructure problem", "Cluster did not recover" }));
        Assert.That(categories[5].GetProperty("matchedStatuses")[0].GetString(), Is.EqualTo("failed"));
    }

    // First match wins, as in Allure; regexes must match the whole (multi-line) message.
    [TestCase("Unreverted fault: kubelet still stopped on w2-k8s\nrevert failed", "broken", "Unreverted fault")]
    [TestCase("Blocked: kubelet check left w2-k8s NotReady", "skipped", "Blocked by an earlier check")]
    [TestCase("Infrastructure: API server 192.168.1.10:6443 not answering", "broken", "Harness or infrastructure problem")]
    [TestCase("Renci.SshNet.Common.SshConnectionException: SSH connection lost\n  at Connect()", "broken", "Harness or infrastructure problem")]
    [TestCase("node w1-k8s unreachable after 30 s", "broken", "Harness or infrastructure problem")]
    // NUnit puts the phase and exception type in front of non-assertion messages.
    [TestCase("TearDown : Harness.Faults.UnrevertedFaultException : Unreverted fault: kubelet stopped on w1-k8s", "broken", "Unreverted fault")]
    [TestCase("System.InvalidOperationException : Blocked: KubeletTests left the cluster not as it found it", "broken", "Blocked by an earlier check")]
    [TestCase("OneTimeSetUp: Harness.ClusterUnreachableException : Infrastructure: profile 'lab': no answer", "broken", "Harness or infrastructure problem")]
    [TestCase("Expected: Ready\n  But was: NotReady", "failed", "Cluster did not recover")]
    [TestCase("Object reference not set to an instance of an object.", "broken", null)]
    public void Categories_sort_messages_into_product_harness_and_unreverted(string message, string status, string? expected)
    {
        var match = AllureResults.Categories.FirstOrDefault(c =>
            c.MatchedStatuses.Any(s => JsonSerializer.Serialize(s, AllureJson.Options) == $"\"{status}\"")
            && Regex.IsMatch(message, c.MessageRegex!, RegexOptions.None, TimeSpan.FromSeconds(1)));

        Assert.That(match?.Name, Is.EqualTo(expected));
    }
}
