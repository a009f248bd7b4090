using Harness.Safety;

namespace Harness.Reporting;

/// <summary>
/// One Allure result being recorded. While it is current (see <see cref="Report.StartTest"/>), steps, attachments,
/// parameters and labels go into it; <see cref="Stop"/> sets the status and writes the file.
/// </summary>
public sealed class TestScope : IDisposable
{
    private readonly TestScope? previous;
    private int stopped;

    internal TestScope(TestResult result, AllureWriter writer, TestScope? previous)
    {
        Result = result;
        Writer = writer;
        this.previous = previous;
    }

    public TestResult Result { get; }
    public bool IsStopped => Volatile.Read(ref stopped) == 1;
    public AllureWriter Writer { get; }

    /// <summary>Called just before the file is written, e.g. to add default labels the test did not set.</summary>
    public Action<TestResult>? BeforeWrite { get; set; }

    /// <summary>Sets status and details, writes the result file and makes the previous test current again. Only the first call counts.</summary>
    public string? Stop(Status status, string? message = null, string? trace = null)
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1) return null;
        Report.Restore(this, previous);
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
        return Writer.Write(Result);
    }

    /// <summary>A scope left without <see cref="Stop"/> is written as broken, so it is never lost silently.</summary>
    public void Dispose() => Stop(Status.Broken, "Infrastructure: the harness ended this result without a status");
}
