using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Harness.Profiles;

/// <summary>A profile that cannot be used. The message names the file and what to fix.</summary>
public sealed class ProfileException(string message) : Exception(message)
{
    /// <summary>A node setting (<c>controlPlane</c>, <c>workers</c>, <c>faultTargets</c>) that names no node of the
    /// cluster discovery found, or the wrong kind of node (<see cref="ProfileNodes.Refused"/>): a profile mistake found
    /// before any login, which the connect step passes on as such rather than as "unreachable".</summary>
    public bool IsNodeSetting { get; init; }
}

/// <summary>
/// Loads a profile by name from fixtures/profiles (or by path) and applies overrides given as dotted keys,
/// e.g. <c>login.user=vagrant</c> or <c>timeouts.podReadySeconds=300</c>, as runsettings or
/// <c>dotnet test -- TestRunParameters.Parameter(name="login.user", value="vagrant")</c> pass them.
/// </summary>
public static class ProfileLoader
{
    private static readonly IDeserializer Strict = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
    private static readonly IDeserializer Loose = new DeserializerBuilder().Build();
    private static readonly ISerializer Writer = new SerializerBuilder().Build();

    public static IReadOnlyList<string> Available(string profilesDirectory) =>
        Directory.Exists(profilesDirectory)
            ? Directory.GetFiles(profilesDirectory, "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)).Order().ToList()
            : [];

    /// <summary>Whether the run parameter <c>profile</c> names a profile file rather than a profile of fixtures/profiles.</summary>
    public static bool IsPath(string nameOrPath) => nameOrPath.EndsWith(".yaml", StringComparison.Ordinal) || nameOrPath.Contains('/');

    /// <summary>
    /// The profile a run parameter <c>profile</c> stands for, before the file is read (the run's lock and its run records
    /// go by it): the name itself, or a profile file's name without <c>.yaml</c> (a fleet's leg writes
    /// <c>&lt;cluster&gt;.yaml</c> with <c>name: &lt;cluster&gt;</c>, so the gate finds its runs by the profile's name).
    /// </summary>
    public static string NameOf(string nameOrPath) => IsPath(nameOrPath) ? Path.GetFileNameWithoutExtension(nameOrPath) : nameOrPath;

    public static ClusterProfile Load(string nameOrPath, string profilesDirectory, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var path = IsPath(nameOrPath)
            ? Path.GetFullPath(nameOrPath)
            : Path.Combine(profilesDirectory, nameOrPath + ".yaml");
        if (!File.Exists(path))
            throw new ProfileException(
                $"Unknown profile '{nameOrPath}': no file {path}. Known profiles: {string.Join(", ", Available(profilesDirectory))}. " +
                "Pick one with the run parameter 'profile' (runsettings.xml or dotnet test -- TestRunParameters.Parameter(name=\"profile\", value=\"lab\")).");
        return Parse(File.ReadAllText(path), path, overrides);
    }

    public static ClusterProfile Parse(string yaml, string sourcePath, IReadOnlyDictionary<string, string>? overrides = null)
    {
        object? tree;
        try { tree = Loose.Deserialize<object>(yaml); }
        catch (YamlException e) { throw Malformed(sourcePath, e); }
        if (tree is not Dictionary<object, object> root)
            throw new ProfileException($"Profile {sourcePath} is not a YAML mapping; see fixtures/profiles/lab.yaml for the shape.");

        // The file as written first, so a typo's line and column are those of the file.
        ClusterProfile profile;
        try { profile = Strict.Deserialize<ClusterProfile>(yaml) ?? new ClusterProfile(); }
        catch (YamlException e) { throw Malformed(sourcePath, e); }

        if (overrides is { Count: > 0 })
        {
            foreach (var (key, value) in overrides)
                ApplyOverride(root, key, value, sourcePath);
            try { profile = Strict.Deserialize<ClusterProfile>(Writer.Serialize(root)) ?? new ClusterProfile(); }
            catch (YamlException e)
            {
                throw new ProfileException(
                    $"Profile {sourcePath}: the overrides ({string.Join(", ", overrides.Select(o => $"{o.Key}={o.Value}"))}) do not fit it: {Reason(e)}");
            }
        }
        FillEmpty(profile);
        DefaultKubectlFlags(profile.Kubernetes);
        profile.SourcePath = sourcePath;
        if (string.IsNullOrEmpty(profile.Name)) profile.Name = Path.GetFileNameWithoutExtension(sourcePath);
        if (string.IsNullOrWhiteSpace(profile.Login.KnownHostsFile)) profile.Login.KnownHostsFile = LoginSettings.DefaultKnownHostsFile(profile.Name);
        Validate(profile);
        return profile;
    }

    private static ProfileException Malformed(string path, YamlException e) =>
        new($"Profile {path} is malformed at line {e.Start.Line}, column {e.Start.Column}: {Reason(e)}");

    // YamlDotNet wraps deserialization errors ("Exception during deserialization") around the real reason;
    // syntax errors carry theirs in the message itself.
    private static string Reason(YamlException e) =>
        (e.InnerException is { } inner && e.Message.Contains("Exception during deserialization") ? inner.Message : e.Message)
        .Split('\n')[0].Replace($"({e.Start}) - ({e.End}): ", "");

    // A key given without a value (`workers:`) reads as null; make it "empty" so validation, not a
    // NullReferenceException, says what is missing.
    private static void FillEmpty(ClusterProfile p)
    {
        p.Discovery ??= new DiscoverySettings();
        p.Discovery.Nodes ??= [];
        p.Discovery.VagrantEnvironment ??= [];
        p.Discovery.MachineNames ??= "{node}";
        p.Login ??= new LoginSettings();
        p.Workers ??= [];
        p.FaultTargets ??= [];
        p.Kubernetes ??= new KubernetesSettings();
        p.Images ??= new ImageSettings();
        p.Commands ??= new FaultCommands();
        p.Timeouts ??= new TimeoutSettings();
        p.Safety ??= new SafetySettings();
        if (string.IsNullOrWhiteSpace(p.Safety.Ledger)) p.Safety.Ledger = SafetySettings.LocalLedger;
        if (string.IsNullOrWhiteSpace(p.Safety.ControlPlaneStateDirectory)) p.Safety.ControlPlaneStateDirectory = SafetySettings.DefaultControlPlaneStateDirectory;
        p.DifferencesFromBook ??= [];
        p.Components ??= new ComponentSettings();
        p.Edition ??= new EditionSettings();
        p.Edition.ChecksNotInBook ??= [];
        if (string.IsNullOrWhiteSpace(p.Edition.NginxPod)) p.Edition.NginxPod = "nginx-pod";
        p.Components.ControlPlane ??= [];
        p.Components.PerNodeDaemonSets ??= [];
        p.Components.Stoppable ??= [];
        p.Components.Health ??= [];
        var kubeadm = new ComponentSettings();
        if (string.IsNullOrWhiteSpace(p.Components.ParkedManifestsDirectory)) p.Components.ParkedManifestsDirectory = kubeadm.ParkedManifestsDirectory;
        if (string.IsNullOrWhiteSpace(p.Components.StopStaticPod)) p.Components.StopStaticPod = kubeadm.StopStaticPod;
        if (string.IsNullOrWhiteSpace(p.Components.StartStaticPod)) p.Components.StartStaticPod = kubeadm.StartStaticPod;
        // The node components' commands (issue 11): a key given empty gets the default rather than an empty command.
        var commands = new FaultCommands();
        if (string.IsNullOrWhiteSpace(p.Commands.StopContainerRuntime)) p.Commands.StopContainerRuntime = commands.StopContainerRuntime;
        if (string.IsNullOrWhiteSpace(p.Commands.StartContainerRuntime)) p.Commands.StartContainerRuntime = commands.StartContainerRuntime;
        if (string.IsNullOrWhiteSpace(p.Commands.BreakCni)) p.Commands.BreakCni = commands.BreakCni;
        if (string.IsNullOrWhiteSpace(p.Commands.RestoreCni)) p.Commands.RestoreCni = commands.RestoreCni;
        if (string.IsNullOrWhiteSpace(p.Commands.BreakBridgeNetfilter)) p.Commands.BreakBridgeNetfilter = commands.BreakBridgeNetfilter;
        if (string.IsNullOrWhiteSpace(p.Commands.RestoreBridgeNetfilter)) p.Commands.RestoreBridgeNetfilter = commands.RestoreBridgeNetfilter;
        if (string.IsNullOrWhiteSpace(p.Components.CoreDnsDeployment)) p.Components.CoreDnsDeployment = kubeadm.CoreDnsDeployment;
        if (string.IsNullOrWhiteSpace(p.Images.DnsUtils)) p.Images.DnsUtils = new ImageSettings().DnsUtils;
    }

    private static void ApplyOverride(Dictionary<object, object> root, string dottedKey, string value, string sourcePath)
    {
        var parts = dottedKey.Split('.');
        var map = root;
        foreach (var part in parts[..^1])
        {
            if (ListEntry(map, part, dottedKey, sourcePath) is { } entry)
            {
                map = entry;
                continue;
            }
            if (!map.TryGetValue(part, out var child) || child is not Dictionary<object, object> childMap)
                map[part] = childMap = new Dictionary<object, object>();
            map = childMap;
        }
        var leaf = parts[^1];
        // Lists are given comma-separated: workers=w1-k8s,w2-k8s
        map[leaf] = IsList(parts) || map.TryGetValue(leaf, out var existing) && existing is List<object>
            ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Cast<object>().ToList()
            : value;
    }

    /// <summary>
    /// One entry of a list setting, as validation names it: <c>nodes[w1-k8s]</c> by its name, <c>nodes[0]</c> by its
    /// position (so <c>discovery.nodes[w1-k8s].port=2222</c> works as a run parameter); null when the part is no such key.
    /// </summary>
    private static Dictionary<object, object>? ListEntry(Dictionary<object, object> map, string part, string dottedKey, string sourcePath)
    {
        var match = System.Text.RegularExpressions.Regex.Match(part, @"^(?<list>[^\[]+)\[(?<entry>[^\]]+)\]$");
        if (!match.Success) return null;
        var list = map.GetValueOrDefault(match.Groups["list"].Value) as List<object> ?? [];
        var entries = list.OfType<Dictionary<object, object>>().ToList();
        var name = match.Groups["entry"].Value;
        return entries.FirstOrDefault(e => e.TryGetValue("name", out var n) && n?.ToString() == name)
               ?? (int.TryParse(name, out var index) && index >= 0 && index < entries.Count ? entries[index] : null)
               ?? throw new ProfileException(
                   $"Profile {sourcePath}: the override {dottedKey} names no entry of '{match.Groups["list"].Value}' " +
                   $"(entries: {string.Join(", ", entries.Select(e => e.GetValueOrDefault("name")?.ToString()).OfType<string>())}).");
    }

    /// <summary>Whether the dotted key names a list setting of <see cref="ClusterProfile"/> (also when the file leaves it out).</summary>
    private static bool IsList(string[] dottedKey)
    {
        var type = typeof(ClusterProfile);
        foreach (var part in dottedKey)
        {
            var property = type.GetProperties().FirstOrDefault(p => string.Equals(p.Name, part, StringComparison.OrdinalIgnoreCase));
            if (property is null) return false;
            type = property.PropertyType;
        }
        return type == typeof(List<string>);
    }

    /// <summary>An explicit <c>kubernetes.version</c> (e.g. 1.18.4), or null ('vagrantfile' or empty: known only once the cluster answers).</summary>
    private static System.Version? ExplicitVersion(KubernetesSettings k) =>
        System.Version.TryParse((k.Version ?? "").TrimStart('v'), out var version) ? version : null;

    /// <summary>A kubectl flag the file leaves out follows the profile's explicit version.</summary>
    private static void DefaultKubectlFlags(KubernetesSettings k)
    {
        if (!string.IsNullOrWhiteSpace(k.DrainEmptyDirFlag)) return;
        k.DrainEmptyDirFlag = ExplicitVersion(k) is { Major: 1, Minor: < 20 } ? KubernetesSettings.DeleteLocalData : KubernetesSettings.DeleteEmptyDirData;
    }

    /// <summary>kubectl's version-specific flags against an explicit <c>kubernetes.version</c>.</summary>
    private static IEnumerable<string> KubectlProblems(KubernetesSettings k)
    {
        var flag = k.DrainEmptyDirFlag;
        if (flag is not (KubernetesSettings.DeleteLocalData or KubernetesSettings.DeleteEmptyDirData))
        {
            yield return $"'kubernetes.drainEmptyDirFlag' is '{flag}'; use '{KubernetesSettings.DeleteLocalData}' (kubectl up to 1.19) " +
                         $"or '{KubernetesSettings.DeleteEmptyDirData}' (from 1.20)";
            yield break;
        }
        if (ExplicitVersion(k) is not { } version) yield break;
        if (version.Major == 1 && version.Minor < 20 && flag == KubernetesSettings.DeleteEmptyDirData)
            yield return $"'kubernetes.drainEmptyDirFlag' is '{flag}', which kubectl {version.Major}.{version.Minor} does not know; use '{KubernetesSettings.DeleteLocalData}'";
        if ((version.Major > 1 || version.Minor >= 31) && flag == KubernetesSettings.DeleteLocalData)
            yield return $"'kubernetes.drainEmptyDirFlag' is '{flag}', which kubectl {version.Major}.{version.Minor} no longer has; use '{KubernetesSettings.DeleteEmptyDirData}'";
    }

    /// <summary>Component names and folders go into shell commands on the control plane: plain names and absolute paths only.</summary>
    private static IEnumerable<string> StaticPodProblems(ComponentSettings c)
    {
        foreach (var name in c.Stoppable.Concat(c.Health.Keys).Where(n => !System.Text.RegularExpressions.Regex.IsMatch(n, "^[a-z0-9][a-z0-9-]*$")))
            yield return $"'components.stoppable'/'components.health' name '{name}', which is not a component name (lower-case letters, digits, '-')";
        foreach (var (key, dir) in new[] { ("components.manifestsDirectory", c.ManifestsDirectory), ("components.parkedManifestsDirectory", c.ParkedManifestsDirectory) })
            if (!System.Text.RegularExpressions.Regex.IsMatch(dir ?? "", "^/[A-Za-z0-9._/-]+$"))
                yield return $"'{key}' is '{dir}'; give an absolute path of letters, digits, '.', '_', '-' and '/'";
        if (c.ParkedManifestsDirectory.TrimEnd('/') == c.ManifestsDirectory.TrimEnd('/'))
            yield return "'components.parkedManifestsDirectory' is the manifests folder itself: kubelet would keep running a manifest parked there";
    }

    /// <summary>Where the ledger lives: a known kind, and a state folder that goes into shell commands on the control plane.</summary>
    private static IEnumerable<string> LedgerProblems(SafetySettings s)
    {
        if (s.Ledger is not (SafetySettings.LocalLedger or SafetySettings.ControlPlaneLedger))
            yield return $"'safety.ledger' is '{s.Ledger}'; use '{SafetySettings.LocalLedger}' (the file safety.ledgerFile on this machine) " +
                         $"or '{SafetySettings.ControlPlaneLedger}' (safety.controlPlaneStateDirectory on the control plane node)";
        if (!System.Text.RegularExpressions.Regex.IsMatch(s.ControlPlaneStateDirectory, "^/[A-Za-z0-9._-][A-Za-z0-9._/-]*$"))
            yield return $"'safety.controlPlaneStateDirectory' is '{s.ControlPlaneStateDirectory}'; give an absolute path of letters, digits, '.', '_', '-' and '/' " +
                         $"other than / itself (e.g. {SafetySettings.DefaultControlPlaneStateDirectory})";
    }

    private static void Validate(ClusterProfile p)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(p.ControlPlane)) problems.Add("'controlPlane' is empty");
        if (p.Workers.Count == 0 && p.Discovery.Mode != "vagrant") problems.Add("'workers' lists no node");
        if (!p.Discovery.MachineNames.Contains("{node}")) problems.Add($"'discovery.machineNames' ('{p.Discovery.MachineNames}') must contain {{node}}");
        var nodes = p.AllNodes.ToHashSet();
        problems.AddRange(ProfileNodes.Problems(p, "profile"));
        switch (p.Discovery.Mode)
        {
            case "vagrant":
                if (string.IsNullOrWhiteSpace(p.Discovery.VagrantDirectory)) problems.Add("'discovery.vagrantDirectory' is empty");
                break;
            case "static":
                foreach (var missing in nodes.Where(n => p.Discovery.Nodes.All(s => s.Name != n)))
                    problems.Add($"node '{missing}' has no entry under 'discovery.nodes'");
                foreach (var unknown in p.Discovery.Nodes.Where(s => !nodes.Contains(s.Name)))
                    problems.Add($"'discovery.nodes' names '{unknown.Name}', which is neither controlPlane nor a worker");
                break;
            default:
                problems.Add($"'discovery.mode' is '{p.Discovery.Mode}'; use 'vagrant' or 'static'");
                break;
        }
        if (p.Discovery.Mode == "static" && string.IsNullOrEmpty(p.Login.User)) problems.Add("'login.user' is empty (static discovery has no default user)");
        problems.AddRange(ProfileSchema.NumberProblems(p));
        problems.AddRange(KubectlProblems(p.Kubernetes));
        problems.AddRange(StaticPodProblems(p.Components));
        problems.AddRange(LedgerProblems(p.Safety));
        if (problems.Count > 0)
            throw new ProfileException($"Profile {p.SourcePath} cannot be used: {string.Join("; ", problems)}.");
    }
}
