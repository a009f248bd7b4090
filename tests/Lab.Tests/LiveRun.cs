using System.Diagnostics;
using System.Text;
using Harness.Reporting;

namespace Lab.Tests;

/// <summary>
/// One run of the live suite (tests/Verification, or a ./verify fleet leg of it) as a child process, with its own
/// results, metrics and ledger files, so these tests can crash it, race two of them, or read everything it wrote.
/// </summary>
public sealed class LiveRun : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    public static string Root { get; } = AllureResults.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");

    private LiveRun(Process process) => _process = process;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public int Pid => _process.Id;
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <param name="filter">dotnet test --filter expression.</param>
    /// <param name="parameters">Run parameters (profile overrides, ledger, results folder).</param>
    /// <param name="sequential">One check at a time in the catalogue's order (./verify --sequential), for a test that needs that order.</param>
    public static LiveRun Start(string filter, IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string>? environment = null,
        bool sequential = false)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Root };
        foreach (var arg in new[] { "test", "tests/Verification/Verification.csproj", "--no-build", "--settings", "runsettings.xml", "--filter", filter, "--" })
            info.ArgumentList.Add(arg);
        foreach (var (name, value) in parameters)
            info.ArgumentList.Add($"TestRunParameters.Parameter(name=\"{name}\", value=\"{value}\")");
        if (sequential)
        {
            info.ArgumentList.Add("NUnit.NumberOfTestWorkers=0");
            info.ArgumentList.Add("TestRunParameters.Parameter(name=\"runMode\", value=\"sequential\")");
        }
        return Started(info, environment);
    }

    /// <summary><c>./verify fleet …</c> of a checkout (this one or another clone) as a child run.</summary>
    /// <param name="arguments">What follows <c>./verify fleet</c>.</param>
    public static LiveRun Fleet(string checkout, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Path.Combine(checkout, "verify")) { WorkingDirectory = checkout };
        info.ArgumentList.Add("fleet");
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return Started(info, environment);
    }

    private static LiveRun Started(ProcessStartInfo info, IReadOnlyDictionary<string, string>? environment)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        var run = new LiveRun(Process.Start(info)!);
        run._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (run._output) run._output.AppendLine(e.Data); };
        run._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (run._output) run._output.AppendLine(e.Data); };
        run._process.BeginOutputReadLine();
        run._process.BeginErrorReadLine();
        return run;
    }

    public async Task<int> WaitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the live run did not finish within {deadline.TotalSeconds:0} s:\n{Output}");
        }
        _process.WaitForExit(); // flush the output readers
        return _process.ExitCode;
    }

    /// <summary>Ends this run and everything it started (dotnet test, vstest, testhost; a fleet's leg, which runs in a
    /// session of its own but is still a descendant), by its own process handle: SIGKILL, no revert can run.</summary>
    public void KillTree()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        KillTree();
        _process.Dispose();
    }
}
