using System.Text.Json;
using Harness.Reporting;

namespace Harness.Tests.Reporting;

/// <summary>A throw-away Allure results folder and a way to read back what was written into it.</summary>
internal sealed class ResultsFolder : IDisposable
{
    public ResultsFolder() => System.IO.Directory.CreateDirectory(Directory);

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "allure-test-" + Guid.NewGuid().ToString("N"));
    public AllureWriter Writer => new(Directory);

    /// <summary>The raw JSON of every <c>*-result.json</c>, by test name.</summary>
    public Dictionary<string, JsonElement> Results() =>
        System.IO.Directory.GetFiles(Directory, "*-result.json")
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement)
            .ToDictionary(r => r.GetProperty("name").GetString()!);

    public string AttachmentText(JsonElement attachment) =>
        File.ReadAllText(Path.Combine(Directory, attachment.GetProperty("source").GetString()!));

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
