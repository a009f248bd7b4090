using System.Text;
using System.Text.Json;
using Harness.Text;

namespace Harness.Reporting;

/// <summary>
/// Writes Allure 2 result files into one folder. Safe to share between parallel tests: every file has its own
/// uuid-based name, and a result is serialized under a lock on it so steps being appended elsewhere cannot tear it.
/// Text is expected to be redacted by the caller (<see cref="Report"/> does it); attachments are redacted here
/// because they are the largest and likeliest carriers of secrets.
/// </summary>
public sealed class AllureWriter(string directory)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public string Write(TestResult result)
    {
        string json;
        lock (result) json = JsonSerializer.Serialize(result, AllureJson.Options);
        return WriteAtomically($"{result.Uuid}-result.json", Encoding.UTF8.GetBytes(json));
    }

    public string Write(TestResultContainer container)
    {
        string json;
        lock (container) json = JsonSerializer.Serialize(container, AllureJson.Options);
        return WriteAtomically($"{container.Uuid}-container.json", Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Writes <c>&lt;uuid&gt;-attachment.&lt;ext&gt;</c> and returns the attachment entry that points at it.</summary>
    public Attachment WriteAttachment(string name, string content, string type = "text/plain", string extension = "txt") =>
        WriteAttachment(name, Encoding.UTF8.GetBytes(Secrets.Redact(content)), type, extension, alreadyRedacted: true);

    /// <summary>Binary content is written as is; textual MIME types are decoded, redacted and re-encoded.</summary>
    public Attachment WriteAttachment(string name, byte[] content, string type, string extension) =>
        WriteAttachment(name, content, type, extension, alreadyRedacted: false);

    private Attachment WriteAttachment(string name, byte[] content, string type, string extension, bool alreadyRedacted)
    {
        if (!alreadyRedacted && IsText(type))
            content = Encoding.UTF8.GetBytes(Secrets.Redact(Encoding.UTF8.GetString(content)));
        var source = $"{Guid.NewGuid()}-attachment.{SafeExtension(extension)}";
        WriteAtomically(source, content);
        return new Attachment(Secrets.Redact(name), source, type);
    }

    private static bool IsText(string type) =>
        type.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || type is "application/json" or "application/yaml" or "application/x-yaml" or "application/xml";

    // Allure 2 only accepts [a-zA-Z0-9._-] in attachment file names.
    private static string SafeExtension(string extension)
    {
        var clean = new string(extension.TrimStart('.').Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').ToArray());
        return clean.Length == 0 ? "txt" : clean;
    }

    // Write beside and rename, so a report rendered mid-run never reads half a file.
    private string WriteAtomically(string fileName, byte[] content)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, fileName);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
