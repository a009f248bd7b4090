using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Nodes;

namespace Harness.Probes;

/// <summary>How a node's pods are wired to it: the question br_netfilter's checks turn on.</summary>
public enum PodWiring
{
    /// <summary>Neither seen on the node nor implied by its CNI configuration.</summary>
    Unknown,

    /// <summary>Pods' veths enslaved to a Linux bridge (the CNI bridge plugin's cni0, flannel's cni0): pod-to-pod
    /// traffic on the node is bridged, and only br_netfilter sends it through iptables.</summary>
    Bridged,

    /// <summary>Each pod has its own veth and a host route to its /32 (Calico's cali*, the ptp plugin), no bridge:
    /// every packet to a pod is routed by the node, br_netfilter never sees it.</summary>
    Routed,
}

/// <summary>Whether the br_netfilter module is there: loaded from a file, built into the kernel, or absent.</summary>
public enum ModuleState { Absent, Loaded, BuiltIn }

/// <summary>The CNI configuration the runtime uses: libcni takes the first file of /etc/cni/net.d by name
/// (*.conf, *.conflist, *.json), and its plugin types in order (a .conf has one).</summary>
public sealed record CniConfig(string File, string? Name, IReadOnlyList<string> PluginTypes, string? IpamType)
{
    /// <summary>The main plugin: the first of the list (calico, bridge, ptp, flannel).</summary>
    public string? MainType => PluginTypes.FirstOrDefault();

    public override string ToString() =>
        $"{File} ({string.Join(", ", PluginTypes)}{(IpamType is null ? "" : $"; ipam {IpamType}")})";
}

/// <summary>
/// What a node is, read in ONE command over SSH before a node-component check decides anything: the container
/// runtime's systemd units, the CNI configuration in use, whether pods hang off a bridge or are routed, and the three
/// things S3 and the br_netfilter check touch (<c>net.ipv4.ip_forward</c>, <c>net.bridge.bridge-nf-call-iptables</c>,
/// the br_netfilter module). The reading is pure C# (<see cref="Parse"/>) over the command's sections, so it is
/// unit-tested with real listings of a Calico node and the lab's bridge node.
/// </summary>
public sealed partial record NodeFacts(
    string Node,
    IReadOnlySet<string> RuntimeUnits,
    CniConfig? Cni,
    PodWiring Wiring,
    string WiringEvidence,
    string? IpForward,
    string? BridgeNfCallIptables,
    ModuleState BrNetfilter)
{
    /// <summary>The systemd units a container runtime may come as (docker with or without its socket, cri-dockerd, CRI-O).</summary>
    public static readonly IReadOnlyList<string> KnownRuntimeUnits =
    [
        "containerd.service", "docker.service", "docker.socket", "cri-docker.service", "cri-docker.socket", "crio.service",
    ];

    /// <summary>
    /// The one command (POSIX sh, as root): each section starts with a line <c>@@name</c>. Nothing in it fails the
    /// command: a missing thing is an empty section.
    /// </summary>
    public static string Script { get; } = string.Join(" ",
        "echo @@units; systemctl list-unit-files --no-legend --no-pager 2>/dev/null | grep -E '^(containerd|docker|cri-docker|crio)\\.(service|socket)[[:space:]]';",
        "echo @@cni; f=$(ls -1 /etc/cni/net.d 2>/dev/null | grep -E '\\.(conf|conflist|json)$' | LC_ALL=C sort | head -n 1);",
        "if [ -n \"$f\" ]; then echo \"$f\"; cat \"/etc/cni/net.d/$f\"; echo; fi;",
        "echo @@bridges; ip -o link show type bridge 2>/dev/null;",
        "for b in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do echo \"@@master $b\"; ip -o link show master \"$b\" 2>/dev/null; done;",
        "echo @@links; ip -o link show 2>/dev/null;",
        "echo @@routes; ip -4 route show 2>/dev/null;",
        "echo @@ip_forward; cat /proc/sys/net/ipv4/ip_forward 2>/dev/null;",
        "echo @@bridge-nf-call-iptables; cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null;",
        "echo @@br_netfilter; if [ -e /sys/module/br_netfilter/initstate ]; then echo loaded; elif [ -d /sys/module/br_netfilter ]; then echo builtin; else echo absent; fi;",
        "true");

    /// <summary>Reads the node's facts (one command, a few KB of output).</summary>
    public static async Task<NodeFacts> ReadAsync(INodeShell shell, TimeSpan timeout, CancellationToken ct)
    {
        var result = (await shell.RunAsync(Script, timeout, ct)).EnsureSuccess();
        return Parse(shell.Name, result.Stdout);
    }

    /// <summary>The command's output as facts.</summary>
    public static NodeFacts Parse(string node, string output)
    {
        var sections = Sections(output);
        var units = Lines(sections, "units").Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0])
            .ToHashSet(StringComparer.Ordinal);
        var cni = ParseCni(Lines(sections, "cni"));
        var (wiring, evidence) = ReadWiring(sections, cni);
        return new NodeFacts(node, units, cni, wiring, evidence,
            FirstValue(sections, "ip_forward"), FirstValue(sections, "bridge-nf-call-iptables"),
            FirstValue(sections, "br_netfilter") switch { "loaded" => ModuleState.Loaded, "builtin" => ModuleState.BuiltIn, _ => ModuleState.Absent });
    }

    /// <summary>One line for the report: <c>w1-k8s: CNI 10-calico.conflist (calico, bandwidth, portmap; ipam calico-ipam); pods routed (…); ip_forward=1; …</c>.</summary>
    public string Summary =>
        $"{Node}: CNI {Cni?.ToString() ?? "none in /etc/cni/net.d"}; pods {WiringWord} ({WiringEvidence}); ip_forward={IpForward ?? "?"}; " +
        $"bridge-nf-call-iptables={BridgeNfCallIptables ?? "absent"}; br_netfilter {Describe(BrNetfilter)}; " +
        $"runtime units {(RuntimeUnits.Count == 0 ? "none found" : string.Join(" ", RuntimeUnits.Order(StringComparer.Ordinal)))}";

    /// <summary>The three values S3 is about, as <c>sysctl</c> and <c>lsmod</c> would show them.</summary>
    public string ForwardingState =>
        $"net.ipv4.ip_forward = {IpForward ?? "?"}\nnet.bridge.bridge-nf-call-iptables = {BridgeNfCallIptables ?? "(absent: br_netfilter not loaded)"}\n" +
        $"br_netfilter: {Describe(BrNetfilter)}";

    private string WiringWord => Wiring switch { PodWiring.Bridged => "bridged", PodWiring.Routed => "routed", _ => "wired unknown" };

    public static string Describe(ModuleState state) => state switch
    {
        ModuleState.Loaded => "loaded (module)",
        ModuleState.BuiltIn => "built into the kernel",
        _ => "not loaded",
    };

    /// <summary>
    /// Why the br_netfilter check has nothing to check on this node, or null when it has: with pods routed (Calico's
    /// cali* veths and /32 routes, no bridge) no pod packet crosses a bridge, so <c>bridge-nf-call-iptables=0</c> changes
    /// nothing and a same-node Service backend keeps answering — a red there would be a false alarm.
    /// </summary>
    public string? BridgeNetfilterNotApplicable => Wiring != PodWiring.Routed ? null
        : $"not applicable: pods on {Node} are routed ({Cni?.MainType ?? "CNI"}: {WiringEvidence}): br_netfilter plays no part, " +
          "so net.bridge.bridge-nf-call-iptables=0 changes nothing for their traffic; the check runs where pods share a bridge (the CNI bridge plugin's cni0)";

    // ---- parsing ------------------------------------------------------------------------------------------------

    private static Dictionary<string, List<string>> Sections(string output)
    {
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("@@", StringComparison.Ordinal))
            {
                current = sections[line[2..].Trim()] = [];
                continue;
            }
            current?.Add(line);
        }
        return sections;
    }

    private static IReadOnlyList<string> Lines(Dictionary<string, List<string>> sections, string name) =>
        sections.TryGetValue(name, out var lines) ? lines.Where(l => l.Trim().Length > 0).ToList() : [];

    private static string? FirstValue(Dictionary<string, List<string>> sections, string name) =>
        Lines(sections, name).Select(l => l.Trim()).FirstOrDefault();

    /// <summary>The first line is the file's name, the rest its JSON (a .conflist's plugins, or a .conf's one type).</summary>
    internal static CniConfig? ParseCni(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0) return null;
        var file = lines[0].Trim();
        try
        {
            using var json = JsonDocument.Parse(string.Join("\n", lines.Skip(1)),
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var root = json.RootElement;
            var plugins = root.TryGetProperty("plugins", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().ToList() : [root];
            var types = plugins.Select(p => p.TryGetProperty("type", out var t) ? t.GetString() : null).OfType<string>().ToList();
            var ipam = plugins.Select(p => p.TryGetProperty("ipam", out var i) && i.ValueKind == JsonValueKind.Object && i.TryGetProperty("type", out var t)
                ? t.GetString() : null).FirstOrDefault(t => t is not null);
            var name = root.TryGetProperty("name", out var n) ? n.GetString() : null;
            return new CniConfig(file, name, types, ipam);
        }
        catch (JsonException)
        {
            return new CniConfig(file, null, [], null); // a file we cannot read says nothing about the wiring
        }
    }

    // `7: cali12ab34cd56e@if3: <BROADCAST,…> mtu 1440 … master cni0 state UP …`: index, name (peer after @), flags.
    [GeneratedRegex(@"^\d+:\s+(?<name>[^:@\s]+)(@(?<peer>[^:\s]+))?:\s+<(?<flags>[^>]*)>(?<rest>.*)$")]
    private static partial Regex LinkLine();

    private sealed record Link(string Name, string? Peer, string? Master);

    private static Link? ParseLink(string line)
    {
        var m = LinkLine().Match(line.Trim());
        if (!m.Success) return null;
        var master = Regex.Match(m.Groups["rest"].Value, @"\smaster\s+(\S+)");
        return new Link(m.Groups["name"].Value, m.Groups["peer"].Success ? m.Groups["peer"].Value : null,
            master.Success ? master.Groups[1].Value : null);
    }

    /// <summary>A veth's other end lives in another network namespace (a pod): <c>@if3</c>; a tunnel shows <c>@NONE</c>.</summary>
    private static bool IsPodVeth(Link link) => link.Peer is { } peer && peer.StartsWith("if", StringComparison.Ordinal);

    /// <summary>
    /// Bridged when a bridge has pod veths enslaved (<c>ip -o link show master cni0</c>); routed when host routes
    /// (<c>172.16.132.3 dev cali12ab34cd56e scope link</c>, no prefix = /32) lead to pod veths on no bridge. A node with
    /// no pod yet is judged by its CNI plugin: calico and ptp route, bridge and flannel bridge.
    /// </summary>
    private static (PodWiring, string) ReadWiring(Dictionary<string, List<string>> sections, CniConfig? cni)
    {
        var bridged = sections.Keys.Where(k => k.StartsWith("master ", StringComparison.Ordinal))
            .Select(k => (Bridge: k["master ".Length..].Trim(), Veths: Lines(sections, k).Select(ParseLink).OfType<Link>().Where(IsPodVeth).ToList()))
            .Where(b => b.Veths.Count > 0)
            .ToList();
        if (bridged.Count > 0)
            return (PodWiring.Bridged, string.Join(", ", bridged.Select(b => $"{b.Veths.Count} pod veth{(b.Veths.Count == 1 ? "" : "s")} on bridge {b.Bridge}")));

        var links = Lines(sections, "links").Select(ParseLink).OfType<Link>().ToDictionary(l => l.Name, StringComparer.Ordinal);
        var podRoutes = Lines(sections, "routes").Select(r => r.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(w => w.Length >= 3 && (!w[0].Contains('/') || w[0].EndsWith("/32", StringComparison.Ordinal)) && w[0] != "default"
                        && w.SkipWhile(x => x != "dev").Skip(1).FirstOrDefault() is { } dev
                        && links.TryGetValue(dev, out var link) && IsPodVeth(link) && link.Master is null)
            .Select(w => w.SkipWhile(x => x != "dev").Skip(1).First())
            .ToList();
        var tunnels = links.Keys.Where(n => n is "tunl0" or "vxlan.calico" or "flannel.1" || n.StartsWith("wireguard", StringComparison.Ordinal)).Order().ToList();
        var tunnel = tunnels.Count > 0 ? $", tunnel {string.Join(", ", tunnels)}" : "";
        if (podRoutes.Count > 0)
        {
            var prefix = CommonPrefix(podRoutes);
            var names = prefix.Length >= 3 ? $"{prefix}* veths" : "pod veths";
            return (PodWiring.Routed, $"{names} with /32 routes ({podRoutes.Count}), no bridge{tunnel}");
        }

        return cni?.MainType switch
        {
            "calico" or "ptp" => (PodWiring.Routed, $"{cni.MainType} routes each pod on its own veth and /32 route, no bridge; no pod on the node yet{tunnel}"),
            "bridge" or "flannel" => (PodWiring.Bridged, $"{cni.MainType} puts pods on a bridge; no pod on the node yet"),
            _ => (PodWiring.Unknown, $"no pod veth on a bridge, no /32 route to one, CNI {cni?.MainType ?? "none"}"),
        };
    }

    private static string CommonPrefix(IReadOnlyList<string> names)
    {
        var prefix = names[0];
        foreach (var name in names.Skip(1))
        {
            var i = 0;
            while (i < prefix.Length && i < name.Length && prefix[i] == name[i]) i++;
            prefix = prefix[..i];
        }
        // "cali12ab…" and "cali34cd…" share "cali"; a single route keeps only its letters.
        return new string(prefix.TakeWhile(char.IsLetter).ToArray());
    }
}
