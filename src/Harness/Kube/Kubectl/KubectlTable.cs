using System.Text.RegularExpressions;

namespace Harness.Kube.Kubectl;

/// <summary>
/// A table as <c>kubectl get</c> prints it (<c>kubectl get pods</c>, <c>kubectl get nodes</c>, <c>-o wide</c>,
/// <c>-o custom-columns</c>). kubectl aligns its columns with a tabwriter, so each cell starts where its header does;
/// cells may hold single spaces (RESTARTS <c>1 (5m ago)</c> in newer kubectl), headers too (<c>NOMINATED NODE</c>).
/// </summary>
public sealed partial class KubectlTable
{
    private KubectlTable(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyDictionary<string, string>> rows)
    {
        Columns = columns;
        Rows = rows;
    }

    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Rows { get; }

    /// <summary>The row whose NAME is <paramref name="name"/>, or null.</summary>
    public IReadOnlyDictionary<string, string>? Row(string name) =>
        Rows.FirstOrDefault(row => row.TryGetValue("NAME", out var n) && n == name);

    /// <summary>The <paramref name="column"/> cell of the row named <paramref name="name"/>, or null.</summary>
    public string? Cell(string name, string column) => Row(name) is { } row && row.TryGetValue(column, out var cell) ? cell : null;

    /// <summary>
    /// Reads the first table in the text: the first line starting with <c>NAME</c>, then its rows up to the first blank
    /// line. Text without a table (<c>No resources found in verification namespace.</c>) gives no rows.
    /// </summary>
    public static KubectlTable Parse(string transcript)
    {
        var lines = KubectlOutput.Lines(transcript).ToList();
        var headerAt = lines.FindIndex(line => Header().IsMatch(line));
        if (headerAt < 0) return new KubectlTable([], []);

        var cells = HeaderCell().Matches(lines[headerAt]).Select(m => (Name: m.Value, Start: m.Index)).ToList();
        var rows = new List<IReadOnlyDictionary<string, string>>();
        foreach (var line in lines.Skip(headerAt + 1).TakeWhile(line => line.Length > 0))
        {
            var row = new Dictionary<string, string>();
            for (var i = 0; i < cells.Count; i++)
            {
                var start = Math.Min(cells[i].Start, line.Length);
                var end = i + 1 < cells.Count ? Math.Min(cells[i + 1].Start, line.Length) : line.Length;
                row[cells[i].Name] = line[start..end].Trim();
            }
            rows.Add(row);
        }
        return new KubectlTable(cells.Select(c => c.Name).ToList(), rows);
    }

    [GeneratedRegex(@"^NAME(?: {2,}[A-Z][A-Z0-9_.-]*(?: [A-Z][A-Z0-9_.-]*)*)*$")]
    private static partial Regex Header();

    // Upper-case words, a single space allowed inside (NOMINATED NODE); cells are at least two spaces apart.
    [GeneratedRegex(@"[A-Z][A-Z0-9_.-]*(?: [A-Z][A-Z0-9_.-]*)*")]
    private static partial Regex HeaderCell();
}
