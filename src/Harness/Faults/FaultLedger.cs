using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harness.Faults;

/// <summary>
/// One injected fault as the ledger keeps it. <see cref="Host"/> and <see cref="Pid"/> are the run's process, so a
/// later run can tell a live run's entry from a dead one's. <see cref="Profile"/> and <see cref="ClusterUid"/> say
/// whose cluster it is (see <see cref="ClusterIdentity"/>); entries written before they existed read them as null.
/// <see cref="ClusterCa"/> is the same cluster as the control plane's files say it (its CA certificate), readable
/// over SSH when the API is down: a later run heals an API-free revert (<see cref="Revert.NeedsApi"/>) of its own
/// cluster before it reaches the API.
/// </summary>
public sealed record LedgerEntry(
    string Id, string RunId, string Check, string Fault, string Node, string Injected, Revert Revert,
    DateTimeOffset InjectedAt, string Host, int Pid, string? Profile = null, string? ClusterUid = null, string? ClusterCa = null)
{
    public bool HasIdentity => !string.IsNullOrEmpty(Profile) && !string.IsNullOrEmpty(ClusterUid);

    public bool BelongsTo(ClusterIdentity identity) => Profile == identity.Profile && ClusterUid == identity.ClusterUid;

    /// <summary>One line for lists and messages: id, what, where, whose.</summary>
    public string Describe() =>
        $"{Id}: {Fault} on {Node} (revert: {Revert}) injected {InjectedAt:yyyy-MM-dd HH:mm:ss} UTC by {Check}, run {RunId}, " +
        (HasIdentity ? $"profile {Profile}, cluster {ClusterUid}" : "no profile or cluster recorded (older harness)");
}

/// <summary>
/// An append-only JSON-lines file outside the repo: an "open" line is written (and flushed to disk) before a fault
/// is injected, a "close" line when its revert succeeded. Open entries left by a dead run are healed by the next.
/// </summary>
public sealed class FaultLedger(string path)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
    // Static on purpose: every FaultLedger of this process (checks side by side, healing, the gate's heal command)
    // appends to the same file, so they take one lock; it guards the file, it holds no data.
    private static readonly Lock Gate = new();

    public string Path { get; } = path;

    private sealed record Line(string Op, string Id, DateTimeOffset At, LedgerEntry? Entry = null, string? Outcome = null);

    public void Open(LedgerEntry entry) => Append(new Line("open", entry.Id, DateTimeOffset.UtcNow, entry));

    public void Close(string id, string outcome) => Append(new Line("close", id, DateTimeOffset.UtcNow, Outcome: outcome));

    /// <summary>The outcome written when a user says they repaired an entry's fault by hand (<c>./verify heal --forget</c>).</summary>
    public const string ForgottenOutcome = "forgotten: repaired by hand (user said so)";

    /// <summary>Closes an entry without running its revert: the user repaired the node by hand.</summary>
    public void Forget(string id) => Close(id, ForgottenOutcome);

    public IReadOnlyList<LedgerEntry> OpenEntries()
    {
        if (!File.Exists(Path)) return [];
        var open = new Dictionary<string, LedgerEntry>();
        foreach (var text in ReadLines())
        {
            Line? line;
            try { line = JsonSerializer.Deserialize<Line>(text, Json); }
            catch (JsonException) { continue; } // a line torn by a crash mid-write carries no promise
            if (line is null) continue;
            if (line.Op == "open" && line.Entry is not null) open[line.Id] = line.Entry;
            else if (line.Op == "close") open.Remove(line.Id);
        }
        return open.Values.OrderBy(e => e.InjectedAt).ToList();
    }

    /// <summary>
    /// The open entries a run of <paramref name="profile"/> answers for without knowing its cluster (e.g. the gate):
    /// its own, and those written before entries carried a profile.
    /// </summary>
    public IReadOnlyList<LedgerEntry> OpenEntriesOf(string profile) =>
        OpenEntries().Where(e => string.IsNullOrEmpty(e.Profile) || e.Profile == profile).ToList();

    private IEnumerable<string> ReadLines()
    {
        lock (Gate)
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var lines = new List<string>();
            while (reader.ReadLine() is { } line) if (line.Length > 0) lines.Add(line);
            return lines;
        }
    }

    private bool EndsTorn()
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length == 0) return false;
        stream.Seek(-1, SeekOrigin.End);
        return stream.ReadByte() != '\n';
    }

    private void Append(Line line)
    {
        var text = JsonSerializer.Serialize(line, Json) + "\n";
        lock (Gate)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
            using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            if (EndsTorn()) text = "\n" + text; // else this line would be glued to a crashed run's half line, and lost with it
            stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true); // the promise to revert must survive a SIGKILL right after this line
        }
    }
}
