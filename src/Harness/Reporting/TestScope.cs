using Harness.Text;

namespace Harness.Reporting;

/// <summary>
/// One Allure result being recorded, and what a check calls to describe what it does: steps, attachments,
/// parameters, labels. Whoever runs the check creates it (<see cref="Report.StartTest(TestResult, AllureWriter?, Action{string}?, Func{Exception, Status?}?)"/>)
/// and hands it to the check; <see cref="Stop"/> sets the status and writes the file. Nothing here is ambient: two
/// checks running side by side each hold their own scope, so their steps cannot mix.
/// </summary>
public sealed class TestScope : IDisposable
{
    private sealed record StepFrame(StepResult Step, int Depth);

    // The open step flows with the async call chain, so steps run concurrently (Task.WhenAll) nest under the right parent.
    private readonly AsyncLocal<StepFrame?> _openStep = new();
    private readonly Action<string>? _progress;
    private readonly Func<Exception, Status?>? _frameworkStatus;
    private int _stopped;

    /// <param name="writer">Where the result and its attachments go; null records in memory only and writes nothing.</param>
    /// <param name="progress">Receives a live line as each step starts and when one fails.</param>
    /// <param name="frameworkStatus">How the test framework's own exceptions read (an assertion failure is failed, an
    /// ignore is skipped); null for the rest, which <see cref="Report.StatusOf"/> classifies.</param>
    internal TestScope(TestResult result, AllureWriter? writer, Action<string>? progress, Func<Exception, Status?>? frameworkStatus)
    {
        Result = result;
        Writer = writer;
        _progress = progress;
        _frameworkStatus = frameworkStatus;
    }

    /// <summary>A scope that records nothing anywhere: for code that reports steps when nobody is listening.</summary>
    public static TestScope NotRecorded(string name = "not recorded") =>
        new(new TestResult { Name = name, FullName = name }, writer: null, progress: null, frameworkStatus: null);

    public TestResult Result { get; }
    public bool IsStopped => Volatile.Read(ref _stopped) == 1;
    public AllureWriter? Writer { get; }

    /// <summary>Called just before the file is written, e.g. to add default labels the test did not set.</summary>
    public Action<TestResult>? BeforeWrite { get; set; }

    /// <summary>How an exception reads in this report: a failed expectation is a product verdict, anything else broken.</summary>
    public Status StatusOf(Exception error) => Report.StatusOf(error, _frameworkStatus);

    /// <summary>
    /// The check's time so far, by part: its top-level steps marked harness or queued (<see cref="Step(string, StepPart, Func{Task})"/>)
    /// and the rest, the book's steps and the waits its narrative needs.
    /// </summary>
    public IReadOnlyDictionary<StepPart, TimeSpan> TimeByPart()
    {
        lock (Result)
            return Enum.GetValues<StepPart>().ToDictionary(part => part, part => TimeSpan.FromMilliseconds(Result.Steps
                .Where(s => s.Stop >= s.Start && StepParts.Of(s) == part)
                .Sum(s => (double)(s.Stop - s.Start))));
    }

    // ---- steps ---------------------------------------------------------------------------------------------------

    public async Task Step(string name, Func<Task> body) =>
        await Step<object?>(name, async () => { await body(); return null; });

    /// <summary>
    /// A step that is the harness's own work, not the book's narrative (the steady state, the check's namespace, the
    /// evidence, leaving the cluster as found), or time spent queued for nodes other checks hold. The step carries the
    /// parameter <c>part</c>; <see cref="TimeByPart"/> adds the top-level steps up by it.
    /// </summary>
    public async Task Step(string name, StepPart part, Func<Task> body) =>
        await Step<object?>(name, async () => { await body(); return null; }, part);

    /// <summary>Runs <paramref name="body"/> as a nested step; its exception marks the step and propagates unchanged.</summary>
    public async Task<T> Step<T>(string name, Func<Task<T>> body) => await Step(name, body, StepPart.Book);

    private async Task<T> Step<T>(string name, Func<Task<T>> body, StepPart part)
    {
        var frame = BeginStep(name, part);
        _openStep.Value = frame; // an async method restores its caller's value on return
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
    public void Step(string name, Action body)
    {
        var frame = BeginStep(name);
        var outer = _openStep.Value;
        _openStep.Value = frame;
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
            _openStep.Value = outer;
        }
    }

    private StepFrame BeginStep(string name, StepPart part = StepPart.Book)
    {
        var parent = _openStep.Value;
        var step = new StepResult { Name = Secrets.Redact(name), Start = AllureJson.Now(), Stage = Stage.Running };
        if (part != StepPart.Book) step.Parameters.Add(new Parameter(StepParts.ParameterName, StepParts.NameOf(part)));
        Change(parent?.Step ?? (ExecutableItem)Result, item => item.Steps.Add(step));
        var depth = (parent?.Depth ?? -1) + 1;
        _progress?.Invoke($"{new string(' ', 2 * depth)}> {step.Name}");
        return new StepFrame(step, depth);
    }

    private void EndStep(StepFrame frame, Exception? error)
    {
        var step = frame.Step;
        lock (Result)
        {
            step.Stop = AllureJson.Now();
            step.Stage = Stage.Finished;
            step.Status = error is null ? Status.Passed : StatusOf(error);
            if (error is not null)
            {
                var cause = Report.Unwrap(error);
                step.StatusDetails = new StatusDetails(Secrets.Redact(cause.Message), Secrets.Redact(cause.ToString()));
            }
        }
        if (error is not null)
            _progress?.Invoke($"{new string(' ', 2 * frame.Depth)}x {step.Name}: {step.Status.ToString()!.ToLowerInvariant()} ({Report.Unwrap(error).GetType().Name})");
    }

    // Steps of one test may run concurrently (Task.WhenAll); the result is the one lock the writer also takes.
    private void Change(ExecutableItem item, Action<ExecutableItem> change)
    {
        lock (Result) change(item);
    }

    private void ChangeCurrentItem(Action<ExecutableItem> change) =>
        Change(_openStep.Value?.Step ?? (ExecutableItem)Result, change);

    // ---- attachments, parameters, labels ---------------------------------------------------------------------------

    /// <summary>Attaches redacted text to the open step, or to the test when no step is open; null when nothing is written.</summary>
    public Attachment? Attach(string name, string content, string mime = "text/plain", string ext = "txt")
    {
        if (Writer is null) return null;
        var attachment = Writer.WriteAttachment(name, content, mime, ext);
        ChangeCurrentItem(item => item.Attachments.Add(attachment));
        return attachment;
    }

    /// <summary>Binary content is kept as is; textual MIME types are redacted.</summary>
    public Attachment? Attach(string name, byte[] content, string mime, string ext)
    {
        if (Writer is null) return null;
        var attachment = Writer.WriteAttachment(name, content, mime, ext);
        ChangeCurrentItem(item => item.Attachments.Add(attachment));
        return attachment;
    }

    /// <summary>
    /// A test parameter; setting the same name again replaces it. Parameters are part of Allure's history key,
    /// so keep names and values stable per check and pass <paramref name="excluded"/> for timings.
    /// </summary>
    public void Parameter(string name, string value, bool excluded = false)
    {
        var parameter = new Parameter(Secrets.Redact(name), Secrets.Redact(value), excluded);
        Change(Result, item =>
        {
            item.Parameters.RemoveAll(p => p.Name == parameter.Name);
            item.Parameters.Add(parameter);
        });
    }

    public void Label(string name, string value)
    {
        lock (Result) Result.Labels.Add(new Label(name, Secrets.Redact(value)));
    }

    public void Link(string name, string url, string type = "link")
    {
        lock (Result) Result.Links.Add(new Link(Secrets.Redact(name), Secrets.Redact(url), type));
    }

    public void Description(string text)
    {
        lock (Result) Result.Description = Secrets.Redact(text);
    }

    // ---- the end ---------------------------------------------------------------------------------------------------

    /// <summary>Sets status and details and writes the result file (its path; null when nothing is written). Only the first call counts.</summary>
    public string? Stop(Status status, string? message = null, string? trace = null)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return null;
        lock (Result)
        {
            Result.Status = status;
            if (message is not null || trace is not null)
                Result.StatusDetails = new StatusDetails(Secrets.Redact(message), trace is null ? null : Secrets.Redact(trace));
            Result.Stage = Stage.Finished;
            Result.Stop = AllureJson.Now();
            Result.HistoryId = AllureIds.HistoryId(Result.TestCaseId ?? AllureIds.Md5Hex(Result.FullName), Result.Parameters);
        }
        BeforeWrite?.Invoke(Result);
        return Writer?.Write(Result);
    }

    /// <summary>A scope left without <see cref="Stop"/> is written as broken, so it is never lost silently.</summary>
    public void Dispose() => Stop(Status.Broken, "Infrastructure: the harness ended this result without a status");
}
