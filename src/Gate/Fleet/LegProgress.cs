using System.Text.RegularExpressions;

namespace VersionGate.Fleet;

/// <summary>
/// What the fleet's console shows of one leg, read from the leg's output as dotnet test prints it at verbosity normal:
/// a line per finished test (<c>  Passed PodHangsInTerminating… [43 s]</c>, <c>  Failed …</c>, <c>  Skipped …</c>) and,
/// at the end, the summary block (<c>Test Run Successful.</c>, <c>Total tests: 9</c>, <c>     Passed: 9</c>,
/// <c> Total time: 3.1 Minutes</c>), kept verbatim.
/// </summary>
public sealed partial class LegProgress(string cluster)
{
    // "  Passed Name [1 s]": the word, then the test's name; the summary's "Passed: 9" has a colon instead.
    [GeneratedRegex(@"^\s*(Passed|Failed|Skipped)\s+[^\s:]")]
    private static partial Regex TestLine();

    [GeneratedRegex(@"^Test Run (Successful|Failed|Aborted)")]
    private static partial Regex SummaryStart();

    private readonly List<string> _summary = [];
    private bool _inSummary;

    public string Cluster { get; } = cluster;
    public int Passed { get; private set; }
    public int Failed { get; private set; }
    public int Skipped { get; private set; }

    /// <summary>dotnet test's summary block as it printed it; empty when the leg printed none (it did not finish).</summary>
    public IReadOnlyList<string> Summary => _summary;

    /// <summary>Reads one line of the leg's output; true when the counts changed (a new progress line is due).</summary>
    public bool Read(string line)
    {
        if (SummaryStart().IsMatch(line) || line.StartsWith("Total tests:", StringComparison.Ordinal))
        {
            if (!_inSummary) _summary.Clear(); // a second summary (a retried run) replaces the first
            _inSummary = true;
        }
        if (_inSummary)
        {
            _summary.Add(line);
            if (line.TrimStart().StartsWith("Total time:", StringComparison.Ordinal)) _inSummary = false;
            return false;
        }
        var match = TestLine().Match(line);
        if (!match.Success) return false;
        switch (match.Groups[1].Value)
        {
            case "Passed": Passed++; break;
            case "Failed": Failed++; break;
            default: Skipped++; break;
        }
        return true;
    }

    /// <summary>The leg's console line, e.g. <c>[book] 7 passed, 0 failed, running ...</c>.</summary>
    public string Line(string state) =>
        $"[{Cluster}] {Passed} passed, {Failed} failed{(Skipped > 0 ? $", {Skipped} skipped" : "")}, {state}";
}
