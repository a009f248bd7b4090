using System.Reflection;
using Harness.NUnitAdapter;
using Harness.Reporting;
using Harness.Waits;
using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace Harness.Tests.Reporting;

[Category("reporting")]
public class StatusAndIdentityTests
{
    private static IEnumerable<TestCaseData> Outcomes()
    {
        yield return new TestCaseData(ResultState.Success, Status.Passed);
        yield return new TestCaseData(ResultState.Failure, Status.Failed);
        yield return new TestCaseData(ResultState.SetUpFailure, Status.Failed);
        yield return new TestCaseData(ResultState.Error, Status.Broken);
        yield return new TestCaseData(ResultState.SetUpError, Status.Broken);
        yield return new TestCaseData(ResultState.Cancelled, Status.Broken);
        yield return new TestCaseData(ResultState.NotRunnable, Status.Broken);
        yield return new TestCaseData(ResultState.Inconclusive, Status.Broken);
        yield return new TestCaseData(ResultState.Warning, Status.Broken);
        yield return new TestCaseData(ResultState.Ignored, Status.Skipped);
        yield return new TestCaseData(ResultState.Skipped, Status.Skipped);
        yield return new TestCaseData(ResultState.Explicit, Status.Skipped);
    }

    [TestCaseSource(nameof(Outcomes))]
    public void NUnit_outcomes_map_as_Allure_NUnit_maps_them(ResultState outcome, Status expected) =>
        Assert.That(AllureNUnitAttribute.StatusOf(outcome), Is.EqualTo(expected));

    [Test]
    public void Exceptions_in_a_step_map_to_failed_only_for_assertions_and_timed_out_waits()
    {
        static Status Of(Exception e) => Report.StatusOf(e, NUnitOutcomes.StatusOf); // as a check's scope reads them
        Assert.That(Of(new AssertionException("x")), Is.EqualTo(Status.Failed));
        Assert.That(Of(new AggregateException(new AssertionException("x"))), Is.EqualTo(Status.Failed));
        Assert.That(Of(new WaitTimeoutException("Timed out", "Pending")), Is.EqualTo(Status.Failed));
        Assert.That(Of(new AggregateException(new WaitTimeoutException("Timed out", "Pending"))), Is.EqualTo(Status.Failed));
        Assert.That(Of(new IgnoreException("x")), Is.EqualTo(Status.Skipped));
        Assert.That(Of(new InconclusiveException("x")), Is.EqualTo(Status.Broken));
        Assert.That(Of(new TimeoutException()), Is.EqualTo(Status.Broken));
        Assert.That(Of(new OperationCanceledException()), Is.EqualTo(Status.Broken));
    }

    [Test]
    public void Without_a_test_framework_only_a_timed_out_wait_is_a_failure()
    {
        Assert.That(Report.StatusOf(new WaitTimeoutException("Timed out", "Pending")), Is.EqualTo(Status.Failed));
        Assert.That(Report.StatusOf(new InvalidOperationException("ssh refused")), Is.EqualTo(Status.Broken));
    }

    [Test]
    public void A_timed_out_wait_in_a_test_body_is_reported_as_NUnit_reports_an_assertion_failure()
    {
        var timeout = new WaitTimeoutException("Timed out after 90 s waiting for nginx-pod to show Terminating (watching pods in verification). Last seen: nginx-pod Running", "nginx-pod Running");

        var result = RunWrapped(timeout);

        Assert.That(result.ResultState, Is.EqualTo(ResultState.Failure), "Failed (the cluster did not recover), not Error");
        Assert.That(result.Message, Is.EqualTo(timeout.Message), "the wait's own message, no exception type in front");
        Assert.That(AllureNUnitAttribute.StatusOf(result.ResultState), Is.EqualTo(Status.Failed));
        Assert.That(NUnitOutcomes.AsAssertion(new AggregateException(timeout))!.Message, Is.EqualTo(timeout.Message), "what set-up code rethrows");
        Assert.That(NUnitOutcomes.AsAssertion(new InvalidOperationException("ssh refused")), Is.Null);
    }

    [Test]
    public void Any_other_exception_in_a_test_body_passes_the_wrapper_untouched()
    {
        var refused = new InvalidOperationException("ssh: connect to w1-k8s refused");

        Assert.That(Assert.Throws<InvalidOperationException>(() => RunWrapped(refused)), Is.SameAs(refused));
    }

    // Runs a test command that throws, wrapped as NUnit wraps a test method, in a context of its own (so the
    // verdict lands there, not on the test running this).
    private static NUnit.Framework.Internal.TestResult RunWrapped(Exception thrown)
    {
        var test = TestExecutionContext.CurrentContext.CurrentTest;
        var context = new TestExecutionContext(TestExecutionContext.CurrentContext) { CurrentResult = test.MakeTestResult() };
        return new WaitTimeoutIsAFailureAttribute().Wrap(new Throws(test, thrown)).Execute(context);
    }

    private sealed class Throws(Test test, Exception thrown) : NUnit.Framework.Internal.Commands.TestCommand(test)
    {
        public override NUnit.Framework.Internal.TestResult Execute(TestExecutionContext context) => throw thrown;
    }

    [Test]
    public void FullName_is_assembly_class_method_and_parameter_types()
    {
        var method = typeof(StatusAndIdentityTests).GetMethod(nameof(NUnit_outcomes_map_as_Allure_NUnit_maps_them))!;
        var generic = typeof(Sample).GetMethod(nameof(Sample.Check))!;

        Assert.That(AllureNUnitAttribute.FullName(method), Is.EqualTo(
            "Harness.Tests:Harness.Tests.Reporting.StatusAndIdentityTests.NUnit_outcomes_map_as_Allure_NUnit_maps_them(NUnit.Framework.Interfaces.ResultState,Harness.Reporting.Status)"));
        Assert.That(AllureNUnitAttribute.FullName(generic), Is.EqualTo(
            "Harness.Tests:Harness.Tests.Reporting.StatusAndIdentityTests+Sample.Check(System.Collections.Generic.List<System.String>,System.Int32)"));
    }

    [Test]
    public void TestCaseId_is_the_md5_of_fullName_and_history_ignores_excluded_parameters()
    {
        Assert.That(AllureIds.Md5Hex("abc"), Is.EqualTo("900150983cd24fb0d6963f7d28e17f72"), "RFC 1321 test vector");

        var id = AllureIds.Md5Hex("A:N.C.M()");
        Assert.That(AllureIds.HistoryId(id, [new Parameter("node", "w1"), new Parameter("seconds", "3.1", Excluded: true)]),
            Is.EqualTo(AllureIds.HistoryId(id, [new Parameter("seconds", "9.9", Excluded: true), new Parameter("node", "w1")])));
        Assert.That(AllureIds.HistoryId(id, [new Parameter("node", "w1")]),
            Is.Not.EqualTo(AllureIds.HistoryId(id, [new Parameter("node", "w2")])));
    }

    [Test]
    [Category("kubelet")]
    [Description("kubelet stop")]
    public void The_attribute_records_the_running_NUnit_test_with_Allure_NUnit_labels()
    {
        using var folder = new ResultsFolder();
        var test = TestExecutionContext.CurrentContext.CurrentTest;
        var attribute = new AllureNUnitAttribute();

        var scope = attribute.Begin(test, folder.Writer);
        Assert.That(new AllureNUnitAttribute().Begin(test, folder.Writer), Is.Null, "a second attribute does not record the test twice");
        scope!.Step("inside", () => scope.Label("story", "kubelet stopped"));
        var path = attribute.End(test, ResultState.Error, "Infrastructure: SSH to w1 unreachable", "at Ssh()");

        Assert.That(scope, Is.Not.Null);
        Assert.That(path, Is.Not.Null);
        var json = folder.Results()[test.Name];
        var fullName = AllureNUnitAttribute.FullName(test.Method!.MethodInfo);
        Assert.That(json.GetProperty("fullName").GetString(), Is.EqualTo(fullName));
        Assert.That(json.GetProperty("testCaseId").GetString(), Is.EqualTo(AllureIds.Md5Hex(fullName)));
        Assert.That(json.GetProperty("status").GetString(), Is.EqualTo("broken"));
        Assert.That(json.GetProperty("description").GetString(), Is.EqualTo("kubelet stop"));
        Assert.That(json.GetProperty("statusDetails").GetProperty("message").GetString(), Is.EqualTo("Infrastructure: SSH to w1 unreachable"));
        Assert.That(json.GetProperty("steps")[0].GetProperty("name").GetString(), Is.EqualTo("inside"));
        var labels = json.GetProperty("labels").EnumerateArray()
            .Select(l => (l.GetProperty("name").GetString(), l.GetProperty("value").GetString())).ToList();
        Assert.That(labels, Is.SupersetOf(new (string?, string?)[]
        {
            ("tag", "reporting"), ("tag", "kubelet"), ("feature", "reporting"), ("story", "kubelet stopped"),
            ("language", "C#"), ("framework", "NUnit"), ("epic", AllureLabels.DefaultEpic), ("severity", "normal"),
            ("parentSuite", "Harness.Tests"), ("suite", "Harness.Tests.Reporting"), ("subSuite", nameof(StatusAndIdentityTests)),
            ("testClass", typeof(StatusAndIdentityTests).FullName), ("package", typeof(StatusAndIdentityTests).FullName),
            ("testMethod", nameof(The_attribute_records_the_running_NUnit_test_with_Allure_NUnit_labels)),
        }));
        Assert.That(labels.Select(l => l.Item1), Does.Contain("host").And.Contain("thread"));
        Assert.That(AllureNUnitAttribute.ScopeOfRunningTest(), Is.Null, "the test is no longer current once written");
    }

    /// <summary>A check of the book's catalogue, as the suite marks one: the component stays the feature, the scenario is the story.</summary>
    [Test, Category("book"), Scenario("S2")]
    public void A_book_checks_scenario_becomes_its_story_and_book_a_tag_after_the_component()
    {
        using var folder = new ResultsFolder();
        var test = TestExecutionContext.CurrentContext.CurrentTest;
        var attribute = new AllureNUnitAttribute();

        attribute.Begin(test, folder.Writer);
        attribute.End(test, ResultState.Success, null, null);

        var labels = folder.Results()[test.Name].GetProperty("labels").EnumerateArray()
            .Select(l => (l.GetProperty("name").GetString(), l.GetProperty("value").GetString())).ToList();
        Assert.That(labels.Where(l => l.Item1 is "tag" or "feature" or "story"), Is.EqualTo(new (string?, string?)[]
        {
            ("tag", "reporting"), ("tag", "book"), ("story", "S2"), ("feature", "reporting"),
        }));
    }

    [TestCase("w1", 3)]
    public void Test_case_arguments_become_parameters(string node, int attempts)
    {
        using var folder = new ResultsFolder();
        var test = TestExecutionContext.CurrentContext.CurrentTest;
        var attribute = new AllureNUnitAttribute();

        attribute.Begin(test, folder.Writer);
        attribute.End(test, ResultState.Ignored, "not on this profile", null);

        var json = folder.Results()[test.Name];
        Assert.That(json.GetProperty("status").GetString(), Is.EqualTo("skipped"));
        Assert.That(json.GetProperty("parameters").EnumerateArray().Select(p => (p.GetProperty("name").GetString(), p.GetProperty("value").GetString())),
            Is.EqualTo(new (string?, string?)[] { ("node", "w1"), ("attempts", "3") }));
    }

    private static class Sample
    {
        public static void Check(List<string> names, int count) { }
    }
}
