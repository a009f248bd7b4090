using System.Text.Json;
using System.Text.Json.Serialization;
using Harness.Nodes;
using Harness.Profiles;

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
/// An append-only JSON-lines ledger: an "open" line is written (and flushed to disk) before a fault is injected, a
/// "close" line when its revert succeeded. Open entries left by a dead run are healed by the next. Where the lines are
/// kept is its <see cref="ILedgerStore"/>: a file on this machine, or a file on the control plane node
/// (<see cref="For"/> picks one from the profile's <c>safety.ledger</c>).
/// </summary>
public sealed class FaultLedger(ILedgerStore store)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A ledger in a file on this machine (<c>safety.ledger: local</c>).</summary>
    public FaultLedger(string path) : this(new LocalLedgerStore(path)) { }

    /// <summary>
    /// The ledger a profile names: its <c>safety.ledgerFile</c> here, or with <c>safety.ledger: controlPlane</c> the file
    /// in <c>safety.controlPlaneStateDirectory</c> on <paramref name="controlPlane"/>, reached through its shell.
    /// </summary>
    public static FaultLedger For(ClusterProfile profile, INodeShell? controlPlane) =>
        profile.Safety.Ledger == SafetySettings.ControlPlaneLedger
            ? new FaultLedger(new ControlPlaneLedgerStore(
                controlPlane ?? throw new ArgumentNullException(nameof(controlPlane), "safety.ledger: controlPlane needs the control plane's shell"),
                profile.Safety.ControlPlaneStateDirectory, profile.Timeouts.ToTimeouts().Command))
            : new FaultLedger(profile.ResolvePath(profile.Safety.LedgerFile));

    /// <summary>Where the ledger is, for messages: a local path, or <c>node:path</c> on the control plane.</summary>
    public string Path => store.Where;

    private sealed record Line(string Op, string Id, DateTimeOffset At, LedgerEntry? Entry = null, string? Outcome = null);

    public void Open(LedgerEntry entry) => Append(new Line("open", entry.Id, DateTimeOffset.UtcNow, entry));

    public void Close(string id, string outcome) => Append(new Line("close", id, DateTimeOffset.UtcNow, Outcome: outcome));

    /// <summary>The outcome written when a user says they repaired an entry's fault by hand (<c>./verify heal --forget</c>).</summary>
    public const string ForgottenOutcome = "forgotten: repaired by hand (user said so)";

    /// <summary>Closes an entry without running its revert: the user repaired the node by hand.</summary>
    public void Forget(string id) => Close(id, ForgottenOutcome);

    public IReadOnlyList<LedgerEntry> OpenEntries()
    {
        var open = new Dictionary<string, LedgerEntry>();
        foreach (var text in store.ReadLines())
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

    private void Append(Line line) => store.Append(JsonSerializer.Serialize(line, Json));
}
