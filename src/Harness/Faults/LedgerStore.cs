using Harness.Nodes;
using Harness.Text;

namespace Harness.Faults;

/// <summary>
/// Where a <see cref="FaultLedger"/> keeps its JSON lines: a file on this machine (<see cref="LocalLedgerStore"/>) or a
/// file on the cluster's control plane (<see cref="ControlPlaneLedgerStore"/>). The ledger's format and its rules (open
/// before inject, close after revert) are the same in both.
/// </summary>
public interface ILedgerStore
{
    /// <summary>Where the lines are, as messages name it.</summary>
    string Where { get; }

    /// <summary>Every non-empty line, in file order; none when there is no ledger yet.</summary>
    IReadOnlyList<string> ReadLines();

    /// <summary>Appends one line (no newline in it) as one unit, durable once this returns: the promise to revert must
    /// survive a SIGKILL of this run right after it.</summary>
    void Append(string line);
}

/// <summary>The ledger as a file on this machine (<c>safety.ledgerFile</c>).</summary>
public sealed class LocalLedgerStore(string path) : ILedgerStore
{
    // Static on purpose: every ledger of this process (checks side by side, healing, the gate's heal command) appends
    // to the same file, so they take one lock; it guards the file, it holds no data.
    private static readonly Lock Gate = new();

    public string Where { get; } = path;

    public IReadOnlyList<string> ReadLines()
    {
        if (!File.Exists(Where)) return [];
        lock (Gate)
        {
            using var stream = new FileStream(Where, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var lines = new List<string>();
            while (reader.ReadLine() is { } line) if (line.Length > 0) lines.Add(line);
            return lines;
        }
    }

    public void Append(string line)
    {
        var text = line + "\n";
        lock (Gate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(Where))!);
            using var stream = new FileStream(Where, FileMode.Append, FileAccess.Write, FileShare.Read);
            if (EndsTorn()) text = "\n" + text; // else this line would be glued to a crashed run's half line, and lost with it
            stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }
    }

    private bool EndsTorn()
    {
        using var stream = new FileStream(Where, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length == 0) return false;
        stream.Seek(-1, SeekOrigin.End);
        return stream.ReadByte() != '\n';
    }
}

/// <summary>
/// The ledger as a file in a root-only folder on the control plane node (<c>safety.ledger: controlPlane</c>), read and
/// appended through the node's shell (SSH, as root through sudo like every node command). It follows the cluster, not
/// the machine that ran: a run from another checkout or runner finds what a killed run left. The control plane answers
/// SSH while the API is down, so the pass that heals before the API (<see cref="Healing.HealBeforeApiAsync"/>) reads it too.
/// </summary>
/// <remarks>
/// The ledger's callers are synchronous (a line is written between two awaits, before a fault is injected), so each
/// command is awaited here; no synchronization context is involved (NUnit on Linux, console apps), so this cannot deadlock.
/// </remarks>
public sealed class ControlPlaneLedgerStore(INodeShell controlPlane, string stateDirectory, TimeSpan commandTimeout) : ILedgerStore
{
    public const string FileName = "fault-ledger.jsonl";

    private string Directory { get; } = stateDirectory.TrimEnd('/');
    private string File => $"{Directory}/{FileName}";

    public string Where => $"{controlPlane.Name}:{File}";

    public IReadOnlyList<string> ReadLines()
    {
        var result = Run($"if [ -f {Quoted(File)} ]; then cat {Quoted(File)}; fi", "read");
        return result.Stdout.Split('\n').Where(l => l.Length > 0).ToList();
    }

    /// <summary>
    /// One <c>printf … &gt;&gt; file</c> under <c>flock</c> on the file itself, so runs appending at once (checks side
    /// by side, another runner) never interleave; a line torn by a crash gets a newline first, as the local file does.
    /// The folder is made (or put back) root-only, mode 0700; the file is 0600.
    /// </summary>
    public void Append(string line) =>
        Run($"umask 077 && install -d -m 0700 {Quoted(Directory)} && " +
            $"( flock 9 && {{ if [ -s {Quoted(File)} ] && [ -n \"$(tail -c 1 {Quoted(File)})\" ]; then printf '\\n'; fi; " +
            $"printf '%s\\n' {Quoted(line)}; }} >&9 && sync {Quoted(File)} ) 9>>{Quoted(File)}", "append to");

    private static string Quoted(string text) => ShellQuote.Single(text);

    private CommandResult Run(string command, string what)
    {
        CommandResult result;
        try
        {
            result = controlPlane.RunAsync(command, commandTimeout).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Unavailable(what, Secrets.Redact(e.Message), e);
        }
        if (!result.Succeeded)
            throw Unavailable(what, $"the command exited with {result.ExitCode}: {Secrets.Redact(result.Stderr.Trim())}", null);
        return result;
    }

    private LedgerUnavailableException Unavailable(string what, string why, Exception? inner) => new(
        $"Could not {what} the fault ledger on the control plane ({Where}, profile setting safety.ledger: controlPlane): {why}. " +
        $"No fault is injected without its revert on record there. Check that {controlPlane.Name} answers SSH, that the login can run commands as root " +
        $"and that `flock` and `install` exist there; or set safety.ledger: local to keep the ledger on this machine.", inner);
}

/// <summary>The fault ledger could not be read or written: no fault may be injected without its revert on record.</summary>
public sealed class LedgerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
