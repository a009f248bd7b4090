using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace VersionGate.Fleet;

/// <summary>A fleet file that cannot be used: one message naming the file, the cluster and the key to fix.</summary>
public sealed class FleetFileException(string message) : Exception(message);

/// <summary>One cluster of a fleet: the leg's name (also its Allure environment), its profile and what the leg adds.</summary>
/// <param name="Profile">A profile name of fixtures/profiles, or the full path of a profile file.</param>
/// <param name="Environment">Environment variables of the leg's ./verify (e.g. the local lab's instance).</param>
/// <param name="Overrides">Deep-merged into the profile's YAML: the same keys as a profile file.</param>
/// <param name="Filter">The leg's dotnet test --filter, or null for every check.</param>
/// <param name="Before">A shell command the leg runs first, in the repository with the leg's environment (e.g. the local
/// lab's <c>fixtures/lab/lab up</c>, which is quick when the lab is up); when it fails the leg runs no check and its
/// cluster is RED, naming the command.</param>
public sealed record FleetCluster(
    string Name, string Profile, IReadOnlyDictionary<string, string> Environment,
    IReadOnlyDictionary<object, object> Overrides, string? Filter, string? Before = null);

/// <summary>
/// The fleet file (see README, "Many clusters"): where the clusters' state lives, how many legs run at once on this
/// machine, and the clusters.
/// </summary>
/// <param name="State">Absolute: the folder of run records, host keys, ledgers and the report's history, one subfolder per cluster.</param>
public sealed record FleetFile(string Path, string State, int Concurrency, IReadOnlyList<FleetCluster> Clusters)
{
    public const string DefaultState = "~/.cache/verification/fleet";
    public const int DefaultConcurrency = 2;

    private static readonly Regex ClusterName = new("^[a-z0-9-]+$");
    private static readonly Regex VariableName = new("^[A-Za-z_][A-Za-z0-9_]*$");
    private static readonly string[] FileKeys = ["state", "concurrency", "clusters"];
    private static readonly string[] ClusterKeys = ["name", "profile", "environment", "overrides", "filter", "before"];

    /// <summary>The cluster's own folder under <see cref="State"/>.</summary>
    public string StateOf(string cluster) => System.IO.Path.Combine(State, cluster);

    public FleetCluster Cluster(string name) =>
        Clusters.FirstOrDefault(c => c.Name == name)
        ?? throw new FleetFileException($"fleet: {Path} has no cluster '{name}'; its clusters: {string.Join(", ", Clusters.Select(c => c.Name))}");

    public static FleetFile Load(string path, string profilesDirectory)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FleetFileException($"fleet: no fleet file at {full} (see fixtures/fleet/lab-pair.yaml for the shape)");
        return Parse(File.ReadAllText(full), full, profilesDirectory);
    }

    /// <summary>Reads and checks the whole file before anything runs; relative paths are relative to the file's folder.</summary>
    public static FleetFile Parse(string yaml, string path, string profilesDirectory)
    {
        object? tree;
        try { tree = new DeserializerBuilder().Build().Deserialize<object>(yaml); }
        catch (YamlException e) { throw new FleetFileException($"fleet: {path} is malformed at line {e.Start.Line}, column {e.Start.Column}: {e.Message.Split('\n')[0]}"); }
        if (tree is not Dictionary<object, object> root)
            throw new FleetFileException($"fleet: {path} is not a YAML mapping with 'clusters:' (see fixtures/fleet/lab-pair.yaml)");
        FleetFileException Bad(string what) => new($"fleet: {path}: {what}");
        UnknownKeys(root, FileKeys, key => Bad($"unknown key '{key}' (known: {string.Join(", ", FileKeys)})"));

        var folder = System.IO.Path.GetDirectoryName(path)!;
        var state = Scalar(root, "state", () => Bad("'state' must be a folder path")) ?? DefaultState;
        var concurrencyText = Scalar(root, "concurrency", () => Bad("'concurrency' must be a whole number of at least 1"));
        var concurrency = DefaultConcurrency;
        if (concurrencyText is not null && (!int.TryParse(concurrencyText, out concurrency) || concurrency < 1))
            throw Bad($"'concurrency' is '{concurrencyText}'; give a whole number of at least 1");

        if (!root.TryGetValue("clusters", out var listed) || listed is not List<object> { Count: > 0 } entries)
            throw Bad("'clusters' must list at least one cluster (- name: …, profile: …)");
        var clusters = new List<FleetCluster>();
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is not Dictionary<object, object> entry) throw Bad($"clusters[{i}] is not a mapping with name and profile");
            var name = Scalar(entry, "name", () => Bad($"clusters[{i}]: 'name' must be a plain name"));
            if (string.IsNullOrEmpty(name)) throw Bad($"clusters[{i}] has no 'name'");
            if (!ClusterName.IsMatch(name))
                throw Bad($"cluster '{name}': 'name' may hold only lower-case letters, digits and '-' (it names a folder and an Allure environment)");
            if (clusters.Any(c => c.Name == name)) throw Bad($"cluster '{name}': 'name' is given twice; each cluster needs its own");
            FleetFileException BadKey(string key, string what) => Bad($"cluster '{name}': '{key}' {what}");
            UnknownKeys(entry, ClusterKeys, key => BadKey(key, $"is not a cluster key (known: {string.Join(", ", ClusterKeys)})"));

            var profile = Scalar(entry, "profile", () => BadKey("profile", "must be a profile name or a profile file's path"));
            if (string.IsNullOrEmpty(profile)) throw BadKey("profile", "is missing: name a profile of fixtures/profiles (e.g. lab) or a profile file");
            profile = ProfileFile(profile, folder, profilesDirectory)
                      ?? throw BadKey("profile", $"is '{profile}', which is no profile: known profiles are {string.Join(", ", Harness.Profiles.ProfileLoader.Available(profilesDirectory))}, or give a profile file's path");

            var environment = new Dictionary<string, string>();
            switch (entry.GetValueOrDefault("environment"))
            {
                case null: break;
                case Dictionary<object, object> variables:
                    foreach (var (key, value) in variables)
                    {
                        if (!VariableName.IsMatch(key.ToString() ?? "")) throw BadKey("environment", $"names '{key}', which is no environment variable name");
                        if (value is not (string or null)) throw BadKey("environment", $"gives {key} a {Kind(value)}; give a plain value (quote numbers: \"0\")");
                        environment[key.ToString()!] = value as string ?? "";
                    }
                    break;
                case var other: throw BadKey("environment", $"is a {Kind(other)}; give a mapping of variable: value");
            }

            var overrides = entry.GetValueOrDefault("overrides") switch
            {
                null => new Dictionary<object, object>(),
                Dictionary<object, object> mapping => mapping,
                var other => throw BadKey("overrides", $"is a {Kind(other)}; give a mapping with a profile file's keys, e.g. safety: {{ledger: controlPlane}}"),
            };
            var filter = Scalar(entry, "filter", () => BadKey("filter", "must be a dotnet test filter, e.g. Category=book"));
            var before = Scalar(entry, "before", () => BadKey("before", "must be one shell command, e.g. fixtures/lab/lab up"));
            clusters.Add(new FleetCluster(name, profile, environment, overrides, string.IsNullOrWhiteSpace(filter) ? null : filter,
                string.IsNullOrWhiteSpace(before) ? null : before));
        }
        return new FleetFile(path, ResolveFolder(state, folder), concurrency, clusters);
    }

    /// <summary>The profile file a cluster's <c>profile</c> names: fixtures/profiles/&lt;name&gt;.yaml, or a path (relative to the fleet file); null when there is none.</summary>
    private static string? ProfileFile(string profile, string folder, string profilesDirectory)
    {
        var path = profile.EndsWith(".yaml", StringComparison.Ordinal) || profile.Contains('/')
            ? ResolveFolder(profile, folder)
            : System.IO.Path.Combine(profilesDirectory, profile + ".yaml");
        return File.Exists(path) ? path : null;
    }

    private static string ResolveFolder(string path, string folder)
    {
        if (path.StartsWith("~/", StringComparison.Ordinal))
            path = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]);
        return System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, path));
    }

    private static string? Scalar(Dictionary<object, object> map, string key, Func<Exception> notScalar) =>
        map.TryGetValue(key, out var value) ? value as string ?? (value is null ? null : throw notScalar()) : null;

    private static void UnknownKeys(Dictionary<object, object> map, string[] known, Func<string, Exception> unknown)
    {
        if (map.Keys.Select(k => k.ToString() ?? "").FirstOrDefault(k => !known.Contains(k)) is { } key) throw unknown(key);
    }

    private static string Kind(object? value) => value switch
    {
        Dictionary<object, object> => "mapping",
        List<object> => "list",
        _ => "plain value",
    };
}
