using System.Reflection;
using Harness.Safety;
using NUnit.Framework;

namespace Harness.Reporting;

/// <summary>A binary attachment, e.g. a PNG chart: kept as is (textual MIME types are redacted).</summary>
public sealed record FileAttachment(string Name, byte[] Content, string Mime, string Extension);

/// <summary>
/// What the live tests call to describe what they do: steps, attachments, parameters, labels.
/// The current test and step flow with the async call chain (AsyncLocal), so parallel tests do not mix.
/// Outside a recorded test every call still runs the body but records nothing.
/// </summary>
public static class Report
{
    private sealed record StepFrame(TestScope Scope, StepResult Step, int Depth);

    private static readonly AsyncLocal<TestScope?> CurrentTest = new();
    private static readonly AsyncLocal<StepFrame?> CurrentStep = new();

    /// <summary>The test being recorded here, if any: the async-flowed one, else the one NUnit says is running.</summary>
    public static TestScope? Current =>
        CurrentTest.Value is { IsStopped: false } scope ? scope : AllureNUnitAttribute.ScopeOfRunningTest();

    // ---- results -------------------------------------------------------------------------------------------------

    /// <summary>Starts recording a result and makes it current; <see cref="TestScope.Stop"/> writes it.</summary>
    public static TestScope StartTest(TestResult result, AllureWriter? writer = null)
    {
        lock (result)
        {
            result.Name = Secrets.Redact(result.Name);
            result.FullName = Secrets.Redact(result.FullName);
            result.TestCaseId ??= AllureIds.Md5Hex(result.FullName);
            if (result.Start == 0) result.Start = AllureJson.Now();
            result.Stage = Stage.Running;
        }
        // A stopped scope can linger on a thread whose context NUnit did not unwind; never return to it.
        var scope = new TestScope(result, writer ?? AllureResults.Writer, CurrentTest.Value is { IsStopped: false } outer ? outer : null);
        CurrentTest.Value = scope; // a step frame of another scope still in context is ignored (see ParentFrame)
        return scope;
    }

    public static TestScope StartTest(string name, string fullName, AllureWriter? writer = null) =>
        StartTest(new TestResult { Name = name, FullName = fullName }, writer);

    internal static void Restore(TestScope ending, TestScope? previous)
    {
        if (CurrentTest.Value == ending) CurrentTest.Value = previous;
    }

    /// <summary>
    /// A result that is not an NUnit test, e.g. the synthetic check "healed faults from an earlier run".
    /// Gets the same default labels as the suite's tests. Returns the path of the result file.
    /// </summary>
    public static string WriteStandaloneResult(
        string name, string fullName, Status status, string? message = null,
        IEnumerable<StepResult>? steps = null, IEnumerable<KeyValuePair<string, string>>? textAttachments = null,
        IEnumerable<Label>? labels = null, AllureWriter? writer = null, IEnumerable<FileAttachment>? fileAttachments = null)
    {
        using var scope = StartTest(name, fullName, writer);
        var result = scope.Result;
        foreach (var step in steps ?? []) result.Steps.Add(RedactStep(step));
        foreach (var (attachmentName, content) in textAttachments ?? [])
            result.Attachments.Add(scope.Writer.WriteAttachment(attachmentName, content));
        foreach (var file in fileAttachments ?? [])
            result.Attachments.Add(scope.Writer.WriteAttachment(file.Name, file.Content, file.Mime, file.Extension));
        foreach (var label in labels ?? []) result.Labels.Add(new Label(label.Name, Secrets.Redact(label.Value)));
        AllureLabels.AddMissing(result,
            (AllureLabels.Host, Environment.MachineName), (AllureLabels.Language, "C#"),
            (AllureLabels.Framework, "Verification harness"), (AllureLabels.ParentSuite, "Verification"),
            (AllureLabels.Suite, "Harness"), (AllureLabels.SubSuite, name),
            (AllureLabels.Epic, AllureLabels.DefaultEpic), (AllureLabels.Severity, "normal"));
        return scope.Stop(status, message)!;
    }

    private static StepResult RedactStep(StepResult step) => step with
    {
        Name = Secrets.Redact(step.Name),
        StatusDetails = step.StatusDetails is null ? null : step.StatusDetails with
        {
            Message = Secrets.Redact(step.StatusDetails.Message), Trace = Secrets.Redact(step.StatusDetails.Trace),
        },
        Stage = Stage.Finished,
        Steps = step.Steps.Select(RedactStep).ToList(),
        Parameters = step.Parameters.Select(p => p with { Name = Secrets.Redact(p.Name), Value = Secrets.Redact(p.Value) }).ToList(),
    };

    // ---- steps ---------------------------------------------------------------------------------------------------

    public static async Task Step(string name, Func<Task> body) =>
        await Step<object?>(name, async () => { await body(); return null; });

    /// <summary>Runs <paramref name="body"/> as a nested step; its exception marks the step and propagates unchanged.</summary>
    public static async Task<T> Step<T>(string name, Func<Task<T>> body)
    {
        var frame = BeginStep(name);
        if (frame is null) return await body();
        CurrentStep.Value = frame; // an async method restores its caller's value on return
        try
        {
            var value = await body();
            EndStep(frame, null);
            return value;
        }
        catch (Exception e)
        {
            EndStep(frame, e);
            throw;
        }
    }

    /// <summary>
    /// Synchronous step. A lambda that only throws (<c>() =&gt; throw …</c>) binds to the Task overload instead;
    /// await that one, or its exception is lost with the discarded Task.
    /// </summary>
    public static void Step(string name, Action body)
    {
        var frame = BeginStep(name);
        if (frame is null) { body(); return; }
        var outer = CurrentStep.Value;
        CurrentStep.Value = frame;
        try
        {
            body();
            EndStep(frame, null);
        }
        catch (Exception e)
        {
            EndStep(frame, e);
            throw;
        }
        finally
        {
            CurrentStep.Value = outer;
        }
    }

    private static StepFrame? BeginStep(string name)
    {
        var scope = Current;
        if (scope is null) return null;
        var parent = ParentFrame(scope);
        var step = new StepResult { Name = Secrets.Redact(name), Start = AllureJson.Now(), Stage = Stage.Running };
        Append(parent?.Step ?? (ExecutableItem)scope.Result, scope.Result, item => item.Steps.Add(step));
        var depth = (parent?.Depth ?? -1) + 1;
        Progress($"{new string(' ', 2 * depth)}> {step.Name}");
        return new StepFrame(scope, step, depth);
    }

    private static void EndStep(StepFrame frame, Exception? error)
    {
        var step = frame.Step;
        lock (frame.Scope.Result)
        {
            step.Stop = AllureJson.Now();
            step.Stage = Stage.Finished;
            step.Status = error is null ? Reporting.Status.Passed : StatusOf(error);
            if (error is not null)
                step.StatusDetails = new StatusDetails(Secrets.Redact(Unwrap(error).Message), Secrets.Redact(Unwrap(error).ToString()));
        }
        if (error is not null)
            Progress($"{new string(' ', 2 * frame.Depth)}x {step.Name}: {step.Status.ToString()!.ToLowerInvariant()} ({Unwrap(error).GetType().Name})");
    }

    private static StepFrame? ParentFrame(TestScope scope) => CurrentStep.Value is { } f && f.Scope == scope ? f : null;

    // Steps of one test may run concurrently (Task.WhenAll); the result is the one lock the writer also takes.
    private static void Append(ExecutableItem item, TestResult owner, Action<ExecutableItem> change)
    {
        lock (owner) change(item);
    }

    /// <summary>How Allure.NUnit reads an exception: a failed assertion is a product verdict, anything else is broken.</summary>
    public static Status StatusOf(Exception error) => Unwrap(error) switch
    {
        AssertionException or MultipleAssertException => Reporting.Status.Failed,
        IgnoreException => Reporting.Status.Skipped,
        SuccessException => Reporting.Status.Passed,
        _ => Reporting.Status.Broken,
    };

    private static Exception Unwrap(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => error,
    };

    // ---- attachments, parameters, labels ---------------------------------------------------------------------------

    /// <summary>Attaches redacted text to the current step, or to the test when no step is open.</summary>
    public static Attachment? Attach(string name, string content, string mime = "text/plain", string ext = "txt")
    {
        var scope = Current;
        if (scope is null) return null;
        var attachment = scope.Writer.WriteAttachment(name, content, mime, ext);
        AddToCurrentItem(scope, item => item.Attachments.Add(attachment));
        return attachment;
    }

    /// <summary>Binary content is kept as is; textual MIME types are redacted.</summary>
    public static Attachment? Attach(string name, byte[] content, string mime, string ext)
    {
        var scope = Current;
        if (scope is null) return null;
        var attachment = scope.Writer.WriteAttachment(name, content, mime, ext);
        AddToCurrentItem(scope, item => item.Attachments.Add(attachment));
        return attachment;
    }

    private static void AddToCurrentItem(TestScope scope, Action<ExecutableItem> change) =>
        Append(ParentFrame(scope)?.Step ?? (ExecutableItem)scope.Result, scope.Result, change);

    /// <summary>
    /// A test parameter; setting the same name again replaces it. Parameters are part of Allure's history key,
    /// so keep names and values stable per check and pass <paramref name="excluded"/> for timings.
    /// </summary>
    public static void Parameter(string name, string value, bool excluded = false)
    {
        var scope = Current;
        if (scope is null) return;
        var parameter = new Parameter(Secrets.Redact(name), Secrets.Redact(value), excluded);
        Append(scope.Result, scope.Result, item =>
        {
            item.Parameters.RemoveAll(p => p.Name == parameter.Name);
            item.Parameters.Add(parameter);
        });
    }

    public static void Label(string name, string value)
    {
        var scope = Current;
        if (scope is null) return;
        lock (scope.Result) scope.Result.Labels.Add(new Label(name, Secrets.Redact(value)));
    }

    public static void Link(string name, string url, string type = "link")
    {
        var scope = Current;
        if (scope is null) return;
        lock (scope.Result) scope.Result.Links.Add(new Link(Secrets.Redact(name), Secrets.Redact(url), type));
    }

    public static void Description(string text)
    {
        var scope = Current;
        if (scope is null) return;
        lock (scope.Result) scope.Result.Description = Secrets.Redact(text);
    }

    /// <summary>
    /// Live console line, redacted and stamped with the time of day. <c>dotnet test</c> shows these lines as they are
    /// written only at console verbosity normal or above (./verify asks for it); at its default, minimal, it hides them.
    /// </summary>
    public static void Progress(string message) => TestContext.Progress.WriteLine(ProgressLine(message, DateTime.Now));

    /// <summary>How a progress line reads: <c>[08:12:03] &gt; step name</c>, secrets masked.</summary>
    public static string ProgressLine(string message, DateTime at) =>
        $"[{at.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)}] {Secrets.Redact(message)}";
}
