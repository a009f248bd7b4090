using Harness.Faults;

namespace Harness.Tests.Faults;

/// <summary>A ledger in a throw-away folder.</summary>
internal sealed class TempLedger : IDisposable
{
    private readonly string _directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ledger-test-" + Guid.NewGuid().ToString("N"));

    public TempLedger() => Ledger = new FaultLedger(System.IO.Path.Combine(_directory, "fault-ledger.jsonl"));

    public FaultLedger Ledger { get; }
    public string Path => Ledger.Path;
    public string Text => File.Exists(Path) ? File.ReadAllText(Path) : "";

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
