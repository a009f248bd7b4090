using System.Diagnostics;
using System.Text.Json;
using Harness.NUnitAdapter;
using Harness.Reporting;
using Harness.Tests.Reporting;
using Harness.Text;
using NUnit.Framework;

namespace Harness.IntegrationTests.Reporting;

/// <summary>
/// Renders results written by the harness with the real, pinned Allure 3 CLI (tools/allure/render) and checks what
/// the CLI read: if the writer produces something Allure does not understand, these assertions go red.
/// </summary>
[Category("allure-cli")]
[NonParallelizable] // it points AllureResults at its own folder for the run-level files
public class AllureCliTests
{
    private const string Secret = "cli-secret-7731";

    [Test]
    [CancelAfter(120_000)]
    public async Task The_Allure_CLI_reads_statuses_steps_attachments_parameters_and_history(CancellationToken cancellation)
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True,
            "node and npm must be on PATH for the real Allure CLI (Node.js 20+; Debian 12's own nodejs is 18, too old).");
        using var folder = new ResultsFolder();
        var work = Path.Combine(folder.Directory, "..", Path.GetFileName(folder.Directory) + "-out");
        var history = Path.Combine(work, "history.jsonl");
        WriteFourResults(folder);

        var clock = Stopwatch.StartNew();
        var first = await AllureCli.RenderAsync(folder.Directory, Path.Combine(work, "report-1"), history, cancellation);
        var second = await AllureCli.RenderAsync(folder.Directory, Path.Combine(work, "report-2"), history, cancellation);
        TestContext.Progress.WriteLine($"two Allure renders took {clock.Elapsed.TotalSeconds:F1} s");

        try
        {
            Assert.That(first.Rendered, Is.True, $"exit {first.ExitCode}\n{first.Output}\n{first.Error}");
            Assert.That(second.Rendered, Is.True, $"exit {second.ExitCode}\n{second.Output}\n{second.Error}");
            var tests = ReadTestResults(second.ReportDirectory);

            Assert.That(tests.Keys, Is.EquivalentTo(new[] { "passes", "fails", "breaks", "skips" }), "the CLI read every result");
            Assert.That(tests.ToDictionary(t => t.Key, t => t.Value.GetProperty("status").GetString()), Is.EquivalentTo(new Dictionary<string, string?>
            {
                ["passes"] = "passed", ["fails"] = "failed", ["breaks"] = "broken", ["skips"] = "skipped",
            }));

            var passes = tests["passes"];
            var outer = passes.GetProperty("steps")[0];
            Assert.That(outer.GetProperty("name").GetString(), Is.EqualTo("kubectl drain w3-k8s"));
            var inner = outer.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("type").GetString() == "step");
            Assert.That(inner.GetProperty("name").GetString(), Is.EqualTo("wait for pods to leave w3-k8s"));
            var attachment = inner.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("type").GetString() == "attachment").GetProperty("link");
            Assert.That(attachment.GetProperty("name").GetString(), Is.EqualTo("kubectl output"));
            Assert.That(attachment.GetProperty("missed").GetBoolean(), Is.False, "the CLI found the attachment file");
            var attachmentFile = Path.Combine(second.ReportDirectory, "data", "attachments", attachment.GetProperty("id").GetString() + attachment.GetProperty("ext").GetString());
            Assert.That(File.ReadAllText(attachmentFile), Is.EqualTo($"node/w3-k8s drained, token {Secrets.Mask}"));
            Assert.That(passes.GetProperty("parameters").EnumerateArray().Select(p => (p.GetProperty("name").GetString(), p.GetProperty("value").GetString(), p.GetProperty("excluded").GetBoolean())),
                Is.EquivalentTo(new[] { ("profile", "book"), ("recovery seconds", "4.2") }.Select(p => ((string?)p.Item1, (string?)p.Item2, p.Item1 != "profile"))));
            Assert.That(passes.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("name").GetString() + "=" + l.GetProperty("value").GetString()),
                Does.Contain("feature=scheduling"));

            Assert.That(tests["fails"].GetProperty("error").GetProperty("message").GetString(), Is.EqualTo("Expected: Ready\n  But was: NotReady"));
            Assert.That(CategoryNames(tests["fails"]), Is.EqualTo(new[] { "Cluster did not recover" }));
            Assert.That(CategoryNames(tests["breaks"]), Is.EqualTo(new[] { "Harness or infrastructure problem" }));

            Assert.That(File.ReadLines(history).Count(), Is.EqualTo(2), "each render appends one run to the history file");
            Assert.That(passes.GetProperty("history").GetArrayLength(), Is.EqualTo(1), "the second report knows the first run of the same check");
            Assert.That(Directory.EnumerateFiles(second.ReportDirectory, "*", SearchOption.AllDirectories).Select(File.ReadAllText),
                Has.None.Contain(Secret), "no secret in the rendered report");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // One result of each status, the passed one with nested steps, an attachment and parameters.
    private static void WriteFourResults(ResultsFolder folder)
    {
        Secrets.Register(Secret);
        AllureResults.StartRun(folder.Writer, new Dictionary<string, string> { ["profile"] = "book", ["kubernetes"] = "v1.18.4" });

        var passes = Report.StartTest("passes", "Cli:Checks.Passes()", folder.Writer);
        passes.Label("feature", "scheduling");
        passes.Parameter("profile", "book");
        passes.Parameter("recovery seconds", "4.2", excluded: true);
        passes.Step("kubectl drain w3-k8s", () =>
            passes.Step("wait for pods to leave w3-k8s", () => passes.Attach("kubectl output", $"node/w3-k8s drained, token {Secret}")));
        passes.Stop(Status.Passed);

        var fails = Report.StartTest(new TestResult { Name = "fails", FullName = "Cli:Checks.Fails()" }, folder.Writer,
            frameworkStatus: NUnitOutcomes.StatusOf);
        Assert.Throws<AssertionException>(() => fails.Step("node Ready again", () => Assert.That("NotReady", Is.EqualTo("Ready"))));
        fails.Stop(Status.Failed, "Expected: Ready\n  But was: NotReady", "at Checks.Fails()");

        var breaks = Report.StartTest("breaks", "Cli:Checks.Breaks()", folder.Writer);
        breaks.Stop(Status.Broken, "Infrastructure: SSH to w1-k8s unreachable", "at NodeShell.Run()");

        var skips = Report.StartTest("skips", "Cli:Checks.Skips()", folder.Writer);
        skips.Stop(Status.Skipped, "not on this profile");
    }

    // Allure 3's awesome plugin writes one JSON per test under data/test-results.
    private static Dictionary<string, JsonElement> ReadTestResults(string report) =>
        Directory.GetFiles(Path.Combine(report, "data", "test-results"), "*.json")
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement)
            .ToDictionary(t => t.GetProperty("name").GetString()!);

    private static IEnumerable<string?> CategoryNames(JsonElement test) =>
        test.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("name").GetString());
}
