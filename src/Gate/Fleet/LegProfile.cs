using Harness.Profiles;
using YamlDotNet.Serialization;

namespace VersionGate.Fleet;

/// <summary>
/// A leg's own profile file: the cluster's profile with its overrides deep-merged in, named after the cluster, with
/// the state that must not be shared between legs (host keys, ledger) under the cluster's state folder.
/// </summary>
public static class LegProfile
{
    /// <summary>
    /// The settings that are local paths, resolved against the profile's folder (<see cref="ClusterProfile.ResolvePath"/>).
    /// The leg's file lives elsewhere, so a relative one (the lab's <c>../lab</c>) is written out in full; a relative
    /// path in the overrides resolves as it would in the profile itself, as a dotted run parameter does.
    /// </summary>
    public static readonly string[] PathSettings = ["discovery.vagrantDirectory", "login.privateKey", "login.knownHostsFile", "safety.ledgerFile"];

    public static string FileName(string cluster) => cluster + ".yaml";

    /// <summary>
    /// The leg's profile as YAML. Also checked as ./verify would load it, so a wrong override is bad input before any
    /// leg runs. The file is named after the cluster (<see cref="FileName"/>) and so is the profile: the suite's lock
    /// file and run records, and the gate, all go by that name.
    /// </summary>
    public static string Yaml(FleetFile fleet, FleetCluster cluster)
    {
        var tree = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(cluster.Profile)) as Dictionary<object, object>
                   ?? throw new FleetFileException($"fleet: {fleet.Path}: cluster '{cluster.Name}': 'profile' {cluster.Profile} is not a YAML mapping");
        DeepMerge(tree, cluster.Overrides);
        tree["name"] = cluster.Name;
        var profileFolder = Path.GetDirectoryName(cluster.Profile)!;
        foreach (var setting in PathSettings)
            if (Get(tree, setting) is { Length: > 0 } path && path != "none" && !path.StartsWith("~/", StringComparison.Ordinal) && !Path.IsPathRooted(path))
                Set(tree, setting, Path.GetFullPath(Path.Combine(profileFolder, path)));
        // Each cluster pins its own host keys and keeps its own ledger file, unless the fleet file says otherwise.
        if (Get(cluster.Overrides, "login.knownHostsFile") is null)
            Set(tree, "login.knownHostsFile", Path.Combine(fleet.StateOf(cluster.Name), "known_hosts.json"));
        if (Get(cluster.Overrides, "safety.ledgerFile") is null)
            Set(tree, "safety.ledgerFile", Path.Combine(fleet.StateOf(cluster.Name), "fault-ledger.jsonl"));

        var yaml = $"# ./verify fleet: cluster {cluster.Name} of {fleet.Path}, from {cluster.Profile} with its overrides. Written anew by every run.\n"
                   + new SerializerBuilder().Build().Serialize(tree);
        var merged = Path.Combine(fleet.StateOf(cluster.Name), FileName(cluster.Name));
        try { ProfileLoader.Parse(yaml, merged); }
        catch (ProfileException e)
        {
            // The message names the merged YAML, which is no file the user wrote: say what it is, without its line numbers.
            var why = System.Text.RegularExpressions.Regex.Replace(e.Message.Replace($"Profile {merged} ", "the merged profile "), @" at line \d+, column \d+", "");
            throw new FleetFileException($"fleet: {fleet.Path}: cluster '{cluster.Name}': 'overrides' do not fit profile {cluster.Profile}: {why}");
        }
        return yaml;
    }

    /// <summary>Writes the leg's profile into <paramref name="folder"/> and returns its path.</summary>
    public static string Write(FleetFile fleet, FleetCluster cluster, string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName(cluster.Name));
        File.WriteAllText(path, Yaml(fleet, cluster));
        return path;
    }

    /// <summary>Mappings merge key by key, at any depth; anything else (a value, a list) replaces what the profile had.</summary>
    public static void DeepMerge(Dictionary<object, object> into, IReadOnlyDictionary<object, object> from)
    {
        foreach (var (key, value) in from)
        {
            if (value is Dictionary<object, object> child && into.GetValueOrDefault(key) is Dictionary<object, object> existing)
                DeepMerge(existing, child);
            else
                into[key] = Copy(value);
        }
    }

    // The fleet file's own tree stays as it was read: every leg's profile is built from it afresh.
    private static object Copy(object value) => value switch
    {
        Dictionary<object, object> map => map.ToDictionary(e => e.Key, e => Copy(e.Value)),
        List<object> list => list.Select(Copy).ToList(),
        _ => value,
    };

    private static string? Get(IReadOnlyDictionary<object, object> tree, string dotted)
    {
        object? node = tree;
        foreach (var part in dotted.Split('.'))
            node = node is IReadOnlyDictionary<object, object> map ? map.GetValueOrDefault(part) : null;
        return node as string;
    }

    private static void Set(Dictionary<object, object> tree, string dotted, string value)
    {
        var parts = dotted.Split('.');
        var map = tree;
        foreach (var part in parts[..^1])
        {
            if (map.GetValueOrDefault(part) is not Dictionary<object, object> child) map[part] = child = new Dictionary<object, object>();
            map = child;
        }
        map[parts[^1]] = value;
    }
}
