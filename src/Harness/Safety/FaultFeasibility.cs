using System.Text;
using System.Text.RegularExpressions;
using Harness.ClusterAccess;
using Harness.Nodes;
using Harness.Probes;
using Harness.Profiles;
using Harness.Text;

namespace Harness.Safety;

/// <summary>
/// Before anything is injected: can every fault command of the profile work on every fault target, and can its revert?
/// A fault whose revert cannot work leaves the node broken and an entry in the ledger no run can heal (the book's
/// <c>modprobe br_netfilter</c> on a kernel where br_netfilter is built in). One cheap probe per node, all nodes at
/// once: the programs each command calls exist, the systemd units it names exist, the modules it loads or removes are
/// loadable modules rather than built in, the sysctl keys it sets exist. Each problem names the node, the profile
/// setting and the fix; an empty list means go.
/// </summary>
public static partial class FaultFeasibility
{
    /// <summary>A profile setting that holds a node-level fault or revert command.</summary>
    public sealed record FaultSetting(string Name, string Command);

    public enum NeedKind { Program, Unit, ModuleLoad, ModuleUnload, SysctlKey }

    /// <summary>Something one simple command (<paramref name="SimpleCommand"/>) needs on the node.</summary>
    public sealed record Need(NeedKind Kind, string Name, string SimpleCommand);

    /// <summary>
    /// Where the probe looks. Real nodes use the defaults; tests point them at a faked layout, and put stand-in
    /// programs first on the probe's PATH with <see cref="ExtraPath"/>.
    /// </summary>
    public sealed record ProbeRoots(string Sys = "/sys", string ProcSys = "/proc/sys", string Modules = "/lib/modules", string? ExtraPath = null);

    /// <summary>The commands a run injects faults or reverts them with (see <see cref="FaultCommands"/>).</summary>
    public static IReadOnlyList<FaultSetting> Settings(ClusterProfile profile) =>
    [
        new("commands.stopKubelet", profile.Commands.StopKubelet),
        new("commands.startKubelet", profile.Commands.StartKubelet),
        new("commands.breakPodNetwork", profile.Commands.BreakPodNetwork),
        new("commands.restorePodNetwork", profile.Commands.RestorePodNetwork),
        new("commands.reboot", profile.Commands.Reboot),
    ];

    /// <summary>
    /// The node-component checks' commands (issue 11), each checked by its own check on its own worker before it
    /// injects (<see cref="CheckAsync(ClusterProfile, IReadOnlyList{FaultSetting}, IEnumerable{string}, Func{string, INodeShell}, CancellationToken, ProbeRoots?)"/>),
    /// not by the run's preflight: a cluster where one of them cannot work still runs the book's nine.
    /// </summary>
    public static IReadOnlyList<FaultSetting> ContainerRuntimeSettings(ClusterProfile profile) =>
    [
        new("commands.stopContainerRuntime", profile.Commands.StopContainerRuntime),
        new("commands.startContainerRuntime", profile.Commands.StartContainerRuntime),
    ];

    /// <summary>
    /// The runtime pair fitted to the node's units (<see cref="RuntimeUnitFilter"/>): a unit the profile names and the
    /// node lacks (docker.socket next to CentOS's docker 1.13.1) is left out knowingly and listed in
    /// <paramref name="leftOut"/>, so the probe judges the command that will run and does not refuse a unit nobody
    /// will ask for. A command whose every unit is missing stays as written: the probe refuses it by name.
    /// </summary>
    /// <param name="node">The node, and the runtime it reports (<c>containerd://1.6.20</c>), for <c>{runtimeUnits}</c>.</param>
    public static IReadOnlyList<FaultSetting> ContainerRuntimeSettings(ClusterProfile profile, (string Name, string? Runtime) node,
        IReadOnlySet<string> nodeUnits, out IReadOnlyList<(string Setting, IReadOnlyList<string> Dropped)> leftOut)
    {
        var fitted = ContainerRuntimeSettings(profile)
            .Select(s => s with { Command = RuntimeUnitFilter.FillRuntimeUnits(s.Command, node.Runtime, node.Name) })
            .Select(s => (Setting: s, Fit: RuntimeUnitFilter.KeepExisting(s.Command, nodeUnits))).ToList();
        leftOut = fitted.Where(f => f.Fit.Dropped.Count > 0).Select(f => (f.Setting.Name, f.Fit.Dropped)).ToList();
        return fitted.Select(f => f.Setting with { Command = f.Fit.Command }).ToList();
    }

    public static IReadOnlyList<FaultSetting> CniSettings(ClusterProfile profile) =>
    [
        new("commands.breakCni", profile.Commands.BreakCni),
        new("commands.restoreCni", profile.Commands.RestoreCni),
    ];

    public static IReadOnlyList<FaultSetting> BridgeNetfilterSettings(ClusterProfile profile) =>
    [
        new("commands.breakBridgeNetfilter", profile.Commands.BreakBridgeNetfilter),
        new("commands.restoreBridgeNetfilter", profile.Commands.RestoreBridgeNetfilter),
    ];

    /// <summary>Probes every fault target of the cluster's profile. Empty = every fault and revert can work.</summary>
    public static Task<IReadOnlyList<string>> CheckAsync(Cluster cluster, CancellationToken ct) =>
        CheckAsync(cluster.Profile, cluster.Node, ct);

    /// <summary>The same, with the node shells given (tests: a real sshd on loopback) and the probe's roots.</summary>
    public static Task<IReadOnlyList<string>> CheckAsync(ClusterProfile profile, Func<string, INodeShell> node, CancellationToken ct,
        ProbeRoots? roots = null) =>
        CheckAsync(profile, Settings(profile), profile.FaultTargets, node, ct, roots);

    /// <summary>Probes <paramref name="nodes"/> for <paramref name="wanted"/> only (a check's own fault and revert on its own worker).</summary>
    public static async Task<IReadOnlyList<string>> CheckAsync(ClusterProfile profile, IReadOnlyList<FaultSetting> wanted, IEnumerable<string> nodes,
        Func<string, INodeShell> node, CancellationToken ct, ProbeRoots? roots = null)
    {
        var settings = wanted.Where(s => !string.IsNullOrWhiteSpace(s.Command)).ToList();
        var needs = settings.SelectMany(s => Parse(s.Command)).ToList();
        var script = ProbeScript(needs, roots ?? new ProbeRoots());
        var timeout = TimeSpan.FromSeconds(Math.Clamp(profile.Timeouts.ToTimeouts().Command.TotalSeconds, 5, 15));

        var probes = nodes.Distinct().Select(async name =>
        {
            try
            {
                var result = await node(name).RunAsync(script, timeout, ct);
                if (!result.Succeeded)
                    return (name, Findings: (IReadOnlyDictionary<(NeedKind, string), string>?)null,
                        Error: $"the probe exited {result.ExitCode}: {Secrets.Redact(result.Stderr.Trim())}");
                return (name, Findings: ParseProbeOutput(result.Stdout), Error: (string?)null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return (name, Findings: null, Error: Secrets.Redact(e.Message.Split('\n')[0]));
            }
        }).ToList();

        var problems = new List<(string Node, string Text)>();
        foreach (var (name, findings, error) in await Task.WhenAll(probes))
        {
            if (findings is null)
                problems.Add((name, $"fault commands could not be checked on {{node}}: {error}; is the node reachable over SSH?"));
            else
                problems.AddRange(Judge(settings, findings, roots ?? new ProbeRoots()).Select(p => (name, p)));
        }
        // The same problem on several nodes reads once, naming all of them.
        return problems.GroupBy(p => p.Text, StringComparer.Ordinal)
            .Select(g => g.Key.Replace("{node}", string.Join(", ", g.Select(p => p.Node))))
            .ToList();
    }

    // ---- parsing the profile's commands -------------------------------------------------------------------------

    private static readonly HashSet<string> UnitVerbs =
    [
        "start", "stop", "restart", "reload", "try-restart", "reload-or-restart", "try-reload-or-restart", "kill",
        "enable", "disable", "reenable", "is-active", "is-enabled", "status", "cat", "mask", "unmask", "show",
    ];

    // The shell's reserved words (`if [ -d X ]; then cp …; fi`): what follows them is the command.
    private static readonly HashSet<string> ShellKeywords = ["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"];

    // Words that run the rest of the line as a command of its own.
    private static readonly HashSet<string> Wrappers = ["sudo", "nohup", "env", "exec", "command", "nice", "timeout"];

    [GeneratedRegex(@"&&|\|\||;|\||&|\n")]
    private static partial Regex CommandSeparators();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*=")]
    private static partial Regex Assignment();

    /// <summary>
    /// What a profile command needs on the node: split into simple commands at <c>&amp;&amp;</c>, <c>||</c>, <c>;</c>,
    /// <c>|</c> and <c>&amp;</c>, then the program of each, and what systemctl, modprobe/rmmod and sysctl are told to use.
    /// </summary>
    public static IReadOnlyList<Need> Parse(string command)
    {
        var needs = new List<Need>();
        foreach (var segment in CommandSeparators().Split(command))
        {
            var simple = segment.Trim();
            var words = Words(simple);
            // Leading variable assignments and wrappers (with their options, and timeout's duration) are not the program.
            var i = 0;
            while (i < words.Count && (Assignment().IsMatch(words[i]) || Wrappers.Contains(words[i]) || ShellKeywords.Contains(words[i])))
            {
                if (ShellKeywords.Contains(words[i])) { i++; continue; } // `then cp …`: the program is cp
                var wrapper = words[i++];
                while (i < words.Count && words[i].StartsWith('-')) i++;
                if (wrapper == "timeout" && i < words.Count) i++;
            }
            if (i >= words.Count) continue;
            var program = words[i];
            var args = words.Skip(i + 1).ToList();
            needs.Add(new Need(NeedKind.Program, program, simple));
            var plain = args.Where(a => !a.StartsWith('-')).ToList();
            switch (Path.GetFileName(program))
            {
                case "systemctl" when plain.Count > 0 && UnitVerbs.Contains(plain[0]):
                    needs.AddRange(plain.Skip(1).Select(unit => new Need(NeedKind.Unit, unit, simple)));
                    break;
                case "modprobe":
                    var remove = args.Any(a => a is "-r" or "--remove" || a.StartsWith('-') && !a.StartsWith("--") && a.Contains('r'));
                    var all = args.Any(a => a is "-a" or "--all");
                    var modules = plain.Where(a => !a.Contains('=')).ToList(); // name=value are module parameters
                    if (!remove && !all) modules = modules.Take(1).ToList();
                    needs.AddRange(modules.Select(m => new Need(remove ? NeedKind.ModuleUnload : NeedKind.ModuleLoad, m, simple)));
                    break;
                case "rmmod":
                    needs.AddRange(plain.Select(m => new Need(NeedKind.ModuleUnload, m, simple)));
                    break;
                case "sysctl" when !args.Any(a => a is "-p" or "--load" or "--system" or "-a" or "--all"):
                    needs.AddRange(plain.Select(a => new Need(NeedKind.SysctlKey, a.Split('=')[0].Trim(), simple)));
                    break;
            }
        }
        return needs;
    }

    /// <summary>Words of a simple command, with single and double quotes removed.</summary>
    private static List<string> Words(string simple)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        char? quote = null;
        var inWord = false;
        foreach (var c in simple)
        {
            if (quote is not null)
            {
                if (c == quote) quote = null; else word.Append(c);
            }
            else if (c is '\'' or '"') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
            }
            else { word.Append(c); inWord = true; }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    // ---- the probe: one shell script per node -------------------------------------------------------------------

    /// <summary>
    /// A POSIX sh script printing one tab-separated line per need: <c>kind, name, finding</c>. It never fails on a
    /// missing thing (that is a finding), so its exit code says only whether it ran.
    /// </summary>
    public static string ProbeScript(IEnumerable<Need> needs, ProbeRoots roots)
    {
        var q = ShellQuote.Single;
        var script = new StringBuilder();
        if (roots.ExtraPath is not null) script.Append($"PATH={q(roots.ExtraPath)}:\"$PATH\"; ");
        script.Append($"s={q(roots.Sys)}; k={q(roots.ProcSys)}; l={q(roots.Modules)}/\"$(uname -r)\"; ");
        script.Append("have() { command -v \"$1\" >/dev/null 2>&1; }; ");
        script.Append("out() { printf '%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$3\"; }; ");
        foreach (var need in needs.Select(n => (n.Kind, n.Name)).Distinct())
        {
            var name = q(need.Name);
            script.Append(need.Kind switch
            {
                NeedKind.Program => $"if have {name}; then out program {name} found; else out program {name} missing; fi; ",
                // LoadState=loaded|not-found|masked; anything else is systemctl's own complaint (no systemd running).
                NeedKind.Unit =>
                    $"if have systemctl; then r=$(systemctl show -p LoadState {name} 2>&1 | tr '\\n\\t' '  '); else r='no systemctl'; fi; out unit {name} \"$r\"; ",
                // /sys/module/<m>/initstate exists only for a module loaded from a file; a directory without it is built in.
                // modinfo (or modules.builtin) says whether modprobe can find it at all.
                NeedKind.ModuleLoad or NeedKind.ModuleUnload =>
                    $"d=\"$s/module/\"{q(need.Name.Replace('-', '_'))}; " +
                    "if [ -e \"$d/initstate\" ]; then sys=loaded; elif [ -d \"$d\" ]; then sys=builtin; else sys=absent; fi; " +
                    $"if have modinfo; then f=$(modinfo -F filename {name} 2>/dev/null | head -n 1); " +
                    "if [ \"$f\" = '(builtin)' ]; then mi=builtin; elif [ -n \"$f\" ]; then mi=file; else mi=notfound; fi; else mi=nomodinfo; fi; " +
                    $"if [ \"$mi\" != file ] && grep -qs \"/\"{q(need.Name.Replace('-', '_'))}'\\.ko' \"$l/modules.builtin\"; then mi=builtin; fi; " +
                    $"out module {name} \"$sys $mi\"; ",
                NeedKind.SysctlKey =>
                    $"if [ -e \"$k/\"{q(need.Name.Replace('.', '/'))} ]; then out sysctl {name} found; else out sysctl {name} missing; fi; ",
                _ => "",
            });
        }
        script.Append("true");
        return script.ToString();
    }

    private static readonly Dictionary<string, NeedKind> ProbeKinds = new()
    {
        ["program"] = NeedKind.Program, ["unit"] = NeedKind.Unit, ["module"] = NeedKind.ModuleLoad, ["sysctl"] = NeedKind.SysctlKey,
    };

    /// <summary>The probe's lines as (kind, name) → finding; module findings are keyed as <see cref="NeedKind.ModuleLoad"/>.</summary>
    public static IReadOnlyDictionary<(NeedKind, string), string> ParseProbeOutput(string stdout)
    {
        var findings = new Dictionary<(NeedKind, string), string>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.TrimEnd('\r').Split('\t', 3);
            if (parts.Length == 3 && ProbeKinds.TryGetValue(parts[0], out var kind)) findings[(kind, parts[1])] = parts[2].Trim();
        }
        return findings;
    }

    // ---- judging ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// The problems one node's findings show, each as "{setting} on {node}: '{command}' cannot work: {why}; {fix}",
    /// with the literal <c>{node}</c> left for the caller to fill in.
    /// </summary>
    public static IReadOnlyList<string> Judge(IEnumerable<FaultSetting> settings, IReadOnlyDictionary<(NeedKind, string), string> findings,
        ProbeRoots roots)
    {
        var problems = new List<string>();
        foreach (var setting in settings)
        {
            foreach (var simple in Parse(setting.Command).GroupBy(n => n.SimpleCommand))
            {
                foreach (var need in simple)
                {
                    var key = (need.Kind == NeedKind.ModuleUnload ? NeedKind.ModuleLoad : need.Kind, need.Name);
                    var finding = findings.GetValueOrDefault(key);
                    var why = finding is null ? "the probe did not report on it" : Why(need, finding, roots);
                    if (why is null) continue;
                    problems.Add($"{setting.Name} on {{node}}: '{need.SimpleCommand}' cannot work: {why}; {Fix(setting, need)}");
                    if (need.Kind == NeedKind.Program) break; // a missing program says it all for this command
                }
            }
        }
        return problems;
    }

    /// <summary>Why the need is not met, or null when it is.</summary>
    private static string? Why(Need need, string finding, ProbeRoots roots)
    {
        var sysModule = $"{roots.Sys}/module/{need.Name.Replace('-', '_')}";
        var parts = finding.Split(' ');
        return need.Kind switch
        {
            NeedKind.Program => finding == "found" ? null
                : $"{need.Name} is not installed (`command -v {need.Name}` finds nothing in root's PATH)",
            NeedKind.Unit => finding switch
            {
                "LoadState=loaded" => null,
                "LoadState=not-found" => $"systemd has no unit {need.Name} (LoadState=not-found)",
                _ when finding.StartsWith("LoadState=", StringComparison.Ordinal) => $"unit {need.Name} cannot be used ({finding})",
                _ => $"systemctl cannot reach systemd here ({finding})",
            },
            NeedKind.SysctlKey => finding == "found" ? null
                : $"this kernel has no sysctl {need.Name} (no {roots.ProcSys}/{need.Name.Replace('.', '/')})",
            NeedKind.ModuleUnload => (parts.ElementAtOrDefault(0), parts.ElementAtOrDefault(1)) switch
            {
                ("loaded", _) => null,
                ("builtin", _) => $"{need.Name} is built into this kernel (no {sysModule}/initstate)",
                (_, "builtin") => $"{need.Name} is built into this kernel (modinfo/modules.builtin say so)",
                (_, "file") => $"{need.Name} is not loaded (no {sysModule}), so there is nothing to remove and modprobe -r fails",
                _ => $"this kernel has no loadable module {need.Name} (no {sysModule}/initstate, modinfo finds none): it is built in or missing",
            },
            NeedKind.ModuleLoad => (parts.ElementAtOrDefault(0), parts.ElementAtOrDefault(1)) switch
            {
                (_, "file" or "builtin") => null, // modprobe finds it (a built-in one listed in modules.builtin loads as a no-op)
                ("loaded", _) => null,
                ("builtin", _) => $"{need.Name} is built into this kernel (no {sysModule}/initstate) and modprobe cannot find it (modinfo finds none)",
                (_, "nomodinfo") => null, // modprobe itself is checked as a program; without modinfo we cannot say more
                _ => $"this kernel has no loadable module {need.Name} (modinfo finds none, no {sysModule}): it is built in or missing",
            },
            _ => null,
        };
    }

    /// <summary>What to change, naming the setting; for the pod-network pair, the lab profile's working alternative.</summary>
    private static string Fix(FaultSetting setting, Need need) => (setting.Name, need.Kind) switch
    {
        ("commands.breakPodNetwork", NeedKind.ModuleUnload or NeedKind.ModuleLoad or NeedKind.Unit) =>
            $"set {setting.Name} to a fault this {(need.Kind == NeedKind.Unit ? "node" : "kernel")} can make, e.g. sysctl -w net.ipv4.ip_forward=0 as the lab profile does",
        ("commands.restorePodNetwork", NeedKind.ModuleUnload or NeedKind.ModuleLoad or NeedKind.Unit) =>
            $"set {setting.Name} to undo what commands.breakPodNetwork does on this node, e.g. sysctl -w net.ipv4.ip_forward=1 as the lab profile does",
        (_, NeedKind.Program) => $"install {need.Name} on the node, or set {setting.Name} to a command this node has",
        (_, NeedKind.Unit) => $"set {setting.Name} to a service this node has (systemctl list-unit-files lists them)",
        (_, NeedKind.SysctlKey) => $"set {setting.Name} to a key this kernel has (sysctl -a lists them)",
        _ => $"set {setting.Name} to a command this kernel supports",
    };
}
