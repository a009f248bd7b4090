using System.Text.Json;
using Harness.NUnitAdapter;
using Harness.Reporting;
using Harness.Text;
using Harness.Waits;
using NUnit.Framework;

namespace Harness.Tests.Reporting;

public class ReportTests
{
    [Test]
    public async Task Nested_steps_get_their_own_status_and_timing_and_the_exception_propagates_unchanged()
    {
        using var folder = new ResultsFolder();
        var boom = new InvalidOperationException("kubelet did not answer");

        // As the NUnit adapter starts a check's scope: NUnit's assertion failures read as failed.
        var scope = Report.StartTest(new TestResult { Name = "steps", FullName = "Tests:Steps.Nested()" }, folder.Writer,
            frameworkStatus: NUnitOutcomes.StatusOf);
        await scope.Step("outer", async () =>
        {
            await scope.Step("inner passes", () => Task.CompletedTask);
            scope.Step("inner sync passes", () => { });
        });
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => scope.Step("broken step", async () => { await Task.Yield(); throw boom; }));
        Assert.Throws<AssertionException>(() => scope.Step("failed step", () => Assert.That(1, Is.EqualTo(2))));
        var answer = await scope.Step("returns a value", () => Task.FromResult(42));
        await Assert.ThrowsAsync<WaitTimeoutException>(() => scope.Step("wait runs out", () =>
            Task.FromException(new WaitTimeoutException("Timed out after 1 s waiting for nginx-pod to run", "Pending"))));
        scope.Stop(Status.Passed);

        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(answer, Is.EqualTo(42));
        var steps = folder.Results()["steps"].GetProperty("steps");
        Assert.That(steps.EnumerateArray().Select(s => s.GetProperty("name").GetString()),
            Is.EqualTo(new[] { "outer", "broken step", "failed step", "returns a value", "wait runs out" }));
        Assert.That(steps[4].GetProperty("status").GetString(), Is.EqualTo("failed"), "a timed-out wait is a failed expectation");
        var outer = steps[0];
        Assert.That(outer.GetProperty("status").GetString(), Is.EqualTo("passed"));
        Assert.That(outer.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()),
            Is.EqualTo(new[] { "inner passes", "inner sync passes" }));
        Assert.That(steps[1].GetProperty("status").GetString(), Is.EqualTo("broken"));
        Assert.That(steps[1].GetProperty("statusDetails").GetProperty("message").GetString(), Is.EqualTo("kubelet did not answer"));
        Assert.That(steps[2].GetProperty("status").GetString(), Is.EqualTo("failed"));
        foreach (var step in steps.EnumerateArray())
        {
            Assert.That(step.GetProperty("stage").GetString(), Is.EqualTo("finished"));
            Assert.That(step.GetProperty("stop").GetInt64(), Is.GreaterThanOrEqualTo(step.GetProperty("start").GetInt64()));
        }
    }

    [Test]
    public async Task Harness_and_queued_steps_are_marked_in_the_file_and_the_time_adds_up_by_part()
    {
        using var folder = new ResultsFolder();
        var scope = Report.StartTest("parts", "Tests:Parts.Check()", folder.Writer);
        await scope.Step("wait for the nodes it uses: held by S2", StepPart.Queued, () => Task.Delay(60));
        await scope.Step("steady state", StepPart.Harness, () => Task.Delay(30));
        await scope.Step("kubectl delete pod nginx-pod → Terminating", async () =>
        {
            await Task.Delay(120);
            await scope.Step("nested harness-looking step counts with its parent", StepPart.Harness, () => Task.Delay(10));
        });
        var time = scope.TimeByPart();
        scope.Stop(Status.Passed);

        Assert.That(time[StepPart.Queued].TotalMilliseconds, Is.GreaterThanOrEqualTo(55));
        Assert.That(time[StepPart.Harness].TotalMilliseconds, Is.GreaterThanOrEqualTo(25));
        Assert.That(time[StepPart.Book].TotalMilliseconds, Is.GreaterThanOrEqualTo(125));
        var steps = folder.Results()["parts"].GetProperty("steps");
        string? PartOf(JsonElement step) => step.TryGetProperty("parameters", out var ps)
            ? ps.EnumerateArray().Where(p => p.GetProperty("name").GetString() == "part").Select(p => p.GetProperty("value").GetString()).FirstOrDefault()
            : null;
        Assert.That(steps.EnumerateArray().Select(PartOf), Is.EqualTo(new[] { "queued", "harness", null }), "book steps carry no part");
    }

    [Test]
    public void A_result_file_has_allure_field_names_and_ids()
    {
        using var folder = new ResultsFolder();
        var scope = Report.StartTest("shape", "Tests:Shape.Check()", folder.Writer);
        scope.Parameter("profile", "book");
        scope.Parameter("recovery seconds", "3.2", excluded: true);
        scope.Parameter("profile", "lab"); // same name again replaces
        scope.Label("story", "kubelet stopped");
        scope.Link("book", "https://example.invalid/ch3", "tms");
        scope.Description("what the check does");
        var path = scope.Stop(Status.Failed, "Expected Ready", "at Check()");

        Assert.That(Path.GetFileName(path), Is.EqualTo($"{scope.Result.Uuid}-result.json"));
        var json = folder.Results()["shape"];
        Assert.That(json.GetProperty("uuid").GetString(), Is.EqualTo(scope.Result.Uuid));
        Assert.That(json.GetProperty("fullName").GetString(), Is.EqualTo("Tests:Shape.Check()"));
        Assert.That(json.GetProperty("testCaseId").GetString(), Is.EqualTo(AllureIds.Md5Hex("Tests:Shape.Check()")));
        Assert.That(json.GetProperty("historyId").GetString(), Is.EqualTo(AllureIds.HistoryId(AllureIds.Md5Hex("Tests:Shape.Check()"), [new Parameter("profile", "lab")])));
        Assert.That(json.GetProperty("status").GetString(), Is.EqualTo("failed"));
        Assert.That(json.GetProperty("stage").GetString(), Is.EqualTo("finished"));
        Assert.That(json.GetProperty("statusDetails").GetProperty("message").GetString(), Is.EqualTo("Expected Ready"));
        Assert.That(json.GetProperty("statusDetails").GetProperty("trace").GetString(), Is.EqualTo("at Check()"));
        Assert.That(json.GetProperty("description").GetString(), Is.EqualTo("what the check does"));
        var parameters = json.GetProperty("parameters").EnumerateArray()
            .Select(p => (p.GetProperty("name").GetString(), p.GetProperty("value").GetString(), p.GetProperty("excluded").GetBoolean(), p.GetProperty("mode").GetString()));
        Assert.That(parameters, Is.EquivalentTo(new[] { ("recovery seconds", "3.2", true, "default"), ("profile", "lab", false, "default") }));
        Assert.That(json.GetProperty("labels")[0].GetProperty("name").GetString(), Is.EqualTo("story"));
        Assert.That(json.GetProperty("links")[0].GetProperty("type").GetString(), Is.EqualTo("tms"));
    }

    [Test]
    public void A_registered_secret_never_reaches_a_result_file_or_an_attachment()
    {
        using var folder = new ResultsFolder();
        const string secret = "s3cret-Vagrant-pw";
        Secrets.Register(secret);

        var scope = Report.StartTest($"login with {secret}", "Tests:Secret.Check()", folder.Writer);
        scope.Step($"ssh root:{secret}@w1", () =>
        {
            scope.Attach("ssh log", $"password was {secret}");
            scope.Attach("as bytes", System.Text.Encoding.UTF8.GetBytes($"yaml: {secret}"), "application/yaml", "yaml");
        });
        scope.Parameter("password", secret);
        scope.Stop(Status.Broken, $"Infrastructure: SSH refused {secret}", $"trace {secret}");

        var files = Directory.GetFiles(folder.Directory);
        Assert.That(files, Has.Length.EqualTo(3), "one result and two attachments");
        foreach (var file in files)
            Assert.That(File.ReadAllText(file), Does.Not.Contain(secret), Path.GetFileName(file));
        var result = folder.Results()[$"login with {Secrets.Mask}"];
        var attachments = result.GetProperty("steps")[0].GetProperty("attachments");
        Assert.That(folder.AttachmentText(attachments[0]), Is.EqualTo($"password was {Secrets.Mask}"));
        Assert.That(attachments[1].GetProperty("source").GetString(), Does.EndWith("-attachment.yaml"));
        Assert.That(attachments[1].GetProperty("type").GetString(), Is.EqualTo("application/yaml"));
    }

    [Test]
    public async Task Parallel_tests_record_only_their_own_steps()
    {
        using var folder = new ResultsFolder();
        async Task RunTest(string name)
        {
            var scope = Report.StartTest(name, $"Tests:Parallel.{name}()", folder.Writer);
            for (var i = 0; i < 20; i++)
                await scope.Step($"{name} step {i}", async () =>
                {
                    await Task.Yield();
                    scope.Attach("note", name);
                });
            scope.Stop(Status.Passed);
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => RunTest($"t{i}"))));

        var results = folder.Results();
        Assert.That(results, Has.Count.EqualTo(8));
        foreach (var (name, json) in results)
        {
            var steps = json.GetProperty("steps").EnumerateArray().ToList();
            Assert.That(steps, Has.Count.EqualTo(20), name);
            Assert.That(steps.Select(s => s.GetProperty("name").GetString()), Has.All.StartWith(name + " "), name);
            Assert.That(steps.Select(s => folder.AttachmentText(s.GetProperty("attachments")[0])), Has.All.EqualTo(name), name);
        }
    }

    [Test]
    public void A_scope_that_is_not_recorded_runs_the_body_and_writes_nothing()
    {
        var scope = TestScope.NotRecorded();
        var ran = false;
        scope.Step("no test here", () => ran = true);

        Assert.That(ran, Is.True);
        Assert.That(scope.Attach("x", "y"), Is.Null);
        Assert.That(scope.Stop(Status.Passed), Is.Null, "no result file");
    }

    [Test]
    public async Task Each_step_start_is_a_progress_line_indented_by_depth_and_a_failure_says_how_it_ended()
    {
        using var folder = new ResultsFolder();
        var lines = new List<string>();
        var scope = Report.StartTest("progress", "Tests:Progress.Lines()", folder.Writer, lines.Add);

        await scope.Step("kubectl drain w3-k8s", async () =>
        {
            await Task.Yield();
            scope.Step("node/w3-k8s cordoned", () => { });
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => scope.Step("curl 172.16.1.2", () => throw new InvalidOperationException("no route")));
        scope.Stop(Status.Passed);

        Assert.That(lines, Is.EqualTo(new[]
        {
            "> kubectl drain w3-k8s", "  > node/w3-k8s cordoned", "> curl 172.16.1.2", "x curl 172.16.1.2: broken (InvalidOperationException)",
        }));
    }

    [Test]
    public void A_standalone_result_gets_default_labels_and_its_steps()
    {
        using var folder = new ResultsFolder();
        var step = new StepResult { Name = "heal kubelet on w1", Status = Status.Passed, Start = 1, Stop = 2 };

        Report.WriteStandaloneResult("Healed faults from an earlier run", "Verification:Ledger.HealedFaults()", Status.Broken,
            folder.Writer, "Unreverted fault: kubelet stopped on w1", [step], [new("ledger", "kubelet w1 stop")]);

        var json = folder.Results()["Healed faults from an earlier run"];
        Assert.That(json.GetProperty("status").GetString(), Is.EqualTo("broken"));
        Assert.That(json.GetProperty("steps")[0].GetProperty("name").GetString(), Is.EqualTo("heal kubelet on w1"));
        Assert.That(folder.AttachmentText(json.GetProperty("attachments")[0]), Is.EqualTo("kubelet w1 stop"));
        var labels = json.GetProperty("labels").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("value").GetString());
        Assert.That(labels["epic"], Is.EqualTo(AllureLabels.DefaultEpic));
        Assert.That(labels["severity"], Is.EqualTo("normal"));
    }

    [Test]
    public void A_progress_line_starts_with_the_time_of_day_and_masks_secrets()
    {
        const string token = "progress-token-5521";
        Secrets.Register(token);

        var step = Report.ProgressLine("  > kubectl drain w3-k8s", new DateTime(2026, 11, 30, 8, 12, 3));
        var wait = Report.ProgressLine($"waiting for nginx-pod to show Terminating: 12 s of 90 s (token {token})", new DateTime(2026, 11, 30, 21, 5, 59));

        Assert.That(step, Is.EqualTo("[08:12:03]   > kubectl drain w3-k8s"), "24-hour clock, the step's indentation kept after the stamp");
        Assert.That(wait, Is.EqualTo($"[21:05:59] waiting for nginx-pod to show Terminating: 12 s of 90 s (token {Secrets.Mask})"));
    }
}
