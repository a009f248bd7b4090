using System.Reflection;
using Harness.Text;
using Harness.Waits;

namespace Harness.Reporting;

/// <summary>A binary attachment, e.g. a PNG chart: kept as is (textual MIME types are redacted).</summary>
public sealed record FileAttachment(string Name, byte[] Content, string Mime, string Extension);

/// <summary>
/// Starting results and the rules every result follows (how an exception reads, how a progress line looks). Holds no
/// state: what a check records goes into its own <see cref="TestScope"/>.
/// </summary>
public static class Report
{
    /// <summary>Starts recording a result; <see cref="TestScope.Stop"/> writes it into <paramref name="writer"/> (null: nowhere).</summary>
    /// <param name="progress">Receives a live line as each step starts (e.g. the console).</param>
    /// <param name="frameworkStatus">How the test framework's own exceptions read; see <see cref="StatusOf"/>.</param>
    public static TestScope StartTest(TestResult result, AllureWriter? writer,
        Action<string>? progress = null, Func<Exception, Status?>? frameworkStatus = null)
    {
        lock (result)
        {
            result.Name = Secrets.Redact(result.Name);
            result.FullName = Secrets.Redact(result.FullName);
            result.TestCaseId ??= AllureIds.Md5Hex(result.FullName);
            if (result.Start == 0) result.Start = AllureJson.Now();
            result.Stage = Stage.Running;
        }
        return new TestScope(result, writer, progress, frameworkStatus);
    }

    public static TestScope StartTest(string name, string fullName, AllureWriter? writer, Action<string>? progress = null) =>
        StartTest(new TestResult { Name = name, FullName = fullName }, writer, progress);

    /// <summary>
    /// A result that is not a test of the suite, e.g. the synthetic check "healed faults from an earlier run".
    /// Gets the same default labels as the suite's tests. Returns the path of the result file.
    /// </summary>
    public static string WriteStandaloneResult(
        string name, string fullName, Status status, AllureWriter writer, string? message = null,
        IEnumerable<StepResult>? steps = null, IEnumerable<KeyValuePair<string, string>>? textAttachments = null,
        IEnumerable<Label>? labels = null, IEnumerable<FileAttachment>? fileAttachments = null)
    {
        using var scope = StartTest(name, fullName, writer);
        var result = scope.Result;
        foreach (var step in steps ?? []) result.Steps.Add(RedactStep(step));
        foreach (var (attachmentName, content) in textAttachments ?? [])
            result.Attachments.Add(writer.WriteAttachment(attachmentName, content));
        foreach (var file in fileAttachments ?? [])
            result.Attachments.Add(writer.WriteAttachment(file.Name, file.Content, file.Mime, file.Extension));
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

    /// <summary>
    /// How Allure.NUnit reads an exception: a failed expectation is a product verdict (failed), anything else is broken.
    /// The harness's own failed expectation is a wait that ran out or a hold that broke (<see cref="WaitFailedException"/>); the test
    /// framework's (an assertion failure, an ignore) are read by <paramref name="frameworkStatus"/>, which the
    /// framework's adapter supplies.
    /// </summary>
    public static Status StatusOf(Exception error, Func<Exception, Status?>? frameworkStatus = null)
    {
        var cause = Unwrap(error);
        return frameworkStatus?.Invoke(cause) ?? (cause is WaitFailedException ? Status.Failed : Status.Broken);
    }

    internal static Exception Unwrap(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => error,
    };

    /// <summary>How a progress line reads: <c>[08:12:03] &gt; step name</c>, secrets masked.</summary>
    public static string ProgressLine(string message, DateTime at) =>
        $"[{at.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)}] {Secrets.Redact(message)}";
}
