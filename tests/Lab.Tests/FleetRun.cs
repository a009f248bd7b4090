using System.Diagnostics;
using System.Text;

namespace Lab.Tests;

/// <summary>
/// One <c>./verify fleet …</c> of a checkout as a child process, with its output kept, so a test can SIGKILL it (and
/// every process under it: its leg's ./verify, dotnet test, the test host) or wait for it.
/// </summary>
public sealed class FleetRun : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    private FleetRun(Process process) => _process = process;

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <param name="checkout">The repository whose ./verify runs (this one, or another clone).</param>
    /// <param name="arguments">What follows <c>./verify fleet</c>.</param>
    public static FleetRun Start(string checkout, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Path.Combine(checkout, "verify")) { WorkingDirectory = checkout, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("fleet");
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var run = new FleetRun(Process.Start(info)!);
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
            Kill();
            throw new TimeoutException($"./verify fleet did not finish within {deadline.TotalSeconds:0} s:\n{Output}");
        }
        _process.WaitForExit(); // flush the output readers
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to this run and every process under it (its leg runs in a session of its own, still a descendant).</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
