using System.Text.Json;

namespace Harness.Nodes;

/// <summary>
/// Trust-on-first-use host keys: a JSON file mapping "host:port" to "SHA256:…". A known entry with a different key
/// is refused, so a typo or a re-used address cannot silently send faults to the wrong machine.
/// </summary>
public sealed class HostKeyStore(string path)
{
    // One lock per file, so two stores on the same path in this process never lose each other's entries (static on
    // purpose: it guards files, not data of a store).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lock> Gates = new();
    private Lock Gate => Gates.GetOrAdd(Path, _ => new Lock());
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>Records an unknown key and returns true; returns false (with the recorded one) when a different key is on file.</summary>
    public bool TryTrust(string host, int port, string fingerprint, out string? recorded)
    {
        lock (Gate)
        {
            var entries = Load();
            var key = $"{host}:{port}";
            if (entries.TryGetValue(key, out recorded)) return recorded == fingerprint;
            entries[key] = fingerprint;
            Save(entries);
            return true;
        }
    }

    public string? Get(string host, int port)
    {
        lock (Gate) return Load().GetValueOrDefault($"{host}:{port}");
    }

    public void Remove(string host, int port)
    {
        lock (Gate)
        {
            var entries = Load();
            if (entries.Remove($"{host}:{port}")) Save(entries);
        }
    }

    private Dictionary<string, string> Load()
    {
        if (!File.Exists(Path)) return new(StringComparer.OrdinalIgnoreCase);
        try
        {
            var map = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path)) ?? [];
            return new(map, StringComparer.OrdinalIgnoreCase);
        }
        catch (JsonException e)
        {
            throw new NodeAccessException($"The host key file {Path} is not valid JSON ({e.Message}); fix or delete it.", e);
        }
    }

    // Write to a temporary file and rename, so a crash never leaves half a file behind.
    private void Save(Dictionary<string, string> entries)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temp = $"{Path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new SortedDictionary<string, string>(entries), Indented));
        File.Move(temp, Path, overwrite: true);
    }
}
