using System.Diagnostics;
using System.Text.RegularExpressions;
using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Profiles;
using Harness.Waits;
using k8s;
using k8s.Autorest;
using NUnit.Framework;

namespace Lab.Tests;

/// <summary>
/// The harness's safety promises, proven against the running lab (fixtures/lab; `fixtures/lab/lab up` first):
/// a killed run is healed by the next one, two runs never share the cluster, and no secret reaches a report.
/// Each test drives the real live suite as a child process.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class SafetyOnTheLabTests : LabFixture
{
    [Test, CancelAfter(900_000)]
    [Description("SIGKILL a run while kubelet is stopped on a worker; the next run starts kubelet again and empties the ledger before it injects anything.")]
    public async Task AKilledRunIsHealedByTheNextRunBeforeAnyNewFault()
    {
        var ledgerPath = Path.Combine(Work, "ledger.jsonl");
        var ledger = new FaultLedger(ledgerPath);

        using var crashed = LiveRun.Start("Name=PodHangsInTerminatingUntilKubeletIsBack", RunParameters("crashed", ledgerPath));
        var kubeletStopped = await UntilAsync(() => ledger.OpenEntries().FirstOrDefault(e => e.Fault == "kubelet stopped"),
            TimeSpan.FromMinutes(5), () => $"the run to stop kubelet; its output so far:\n{crashed.Output}");
        // The fault is in place once the node says so; the ledger line is written just before the command runs.
        await UntilAsync(async () => await Lab.Kubelets.IsActiveAsync(kubeletStopped.Node, default) ? null : "stopped",
            TimeSpan.FromSeconds(60), () => $"kubelet to be stopped on {kubeletStopped.Node}");

        using (var testhost = Process.GetProcessById(kubeletStopped.Pid)) testhost.Kill(); // SIGKILL: no revert can run
        crashed.KillTree();
        Assert.That(await Lab.Kubelets.IsActiveAsync(kubeletStopped.Node, default), Is.False, "the killed run left kubelet stopped");
        Assert.That(ledger.OpenEntries().Select(e => e.Id), Does.Contain(kubeletStopped.Id));

        using var next = LiveRun.Start("Category=heal", RunParameters("next", ledgerPath));
        var exitCode = await next.WaitAsync(TimeSpan.FromMinutes(8));
        Assert.That(exitCode, Is.Zero, next.Output);

        Assert.That(await Lab.Kubelets.IsActiveAsync(kubeletStopped.Node, default), Is.True, $"kubelet runs again on {kubeletStopped.Node}");
        Assert.That(ledger.OpenEntries(), Is.Empty, "the ledger has no open entry");
        // Healed before anything new: the kubelet entry is closed before the next run opens its first entry.
        var lines = File.ReadAllLines(ledgerPath);
        var closedAt = Array.FindIndex(lines, l => l.Contains("\"op\":\"close\"") && l.Contains(kubeletStopped.Id));
        var firstNewOpen = Array.FindIndex(lines, l => l.Contains("\"op\":\"open\"") && !l.Contains(kubeletStopped.RunId));
        Assert.That(closedAt, Is.GreaterThanOrEqualTo(0));
        Assert.That(firstNewOpen < 0 || closedAt < firstNewOpen, Is.True, "healing comes before the next run's first fault");
        TestContext.Progress.WriteLine($"crash and heal: {kubeletStopped.Fault} on {kubeletStopped.Node} healed by the next run");
        var healed = Directory.GetFiles(Path.Combine(Work, "next", "allure-results"), "*-result.json")
            .Select(File.ReadAllText).Where(t => t.Contains(Healing.CheckName)).ToList();
        Assert.That(healed, Has.Count.EqualTo(1), "the healing is reported as a check of its own");
        Assert.That(healed[0], Does.Contain("\"status\": \"passed\"").Or.Contain("\"status\":\"passed\""));
    }

    [Test, CancelAfter(1_200_000)]
    [Description("SIGKILL a fleet leg while kubelet is stopped on a worker; the next fleet leg, run from another clone with its own home (cache, locks, state folder, known hosts), finds the fault in the control plane's ledger and heals it.")]
    public async Task AKilledFleetLegIsHealedFromTheControlPlanesLedgerByALegFromAnotherClone()
    {
        // One cluster of a fleet file: the lab, its ledger on the control plane (safety.ledger: controlPlane).
        string FleetFile(string name, string filter)
        {
            var path = Path.Combine(Work, $"{name}.yaml");
            File.WriteAllText(path, $$"""
                state: {{Path.Combine(Work, name, "state")}}
                clusters:
                  - name: crash-heal
                    profile: lab
                    overrides:
                      discovery: {vagrantDirectory: {{Path.Combine(LiveRun.Root, "fixtures", "lab")}}}
                      login: {knownHostsFile: {{Path.Combine(Work, name, "known_hosts.json")}}}
                      safety: {ledger: controlPlane}
                    filter: "{{filter}}"
                """);
            return path;
        }
        var ledger = new FaultLedger(new ControlPlaneLedgerStore(Lab.ControlPlane, Lab.Profile.Safety.ControlPlaneStateDirectory, TimeSpan.FromSeconds(30)));
        var openBefore = ledger.OpenEntries().Select(e => e.Id).ToHashSet();

        using var crashed = LiveRun.Fleet(LiveRun.Root, [FleetFile("a", "Name=PodHangsInTerminatingUntilKubeletIsBack"), "--cluster", "crash-heal", "--out", Path.Combine(Work, "a", "out")]);
        var kubeletStopped = await UntilAsync(() => ledger.OpenEntries().FirstOrDefault(e => e.Fault == "kubelet stopped" && !openBefore.Contains(e.Id)),
            TimeSpan.FromMinutes(6), () => $"the leg to stop kubelet (an open entry in {ledger.Path}); its output so far:\n{crashed.Output}");
        await UntilAsync(async () => await Lab.Kubelets.IsActiveAsync(kubeletStopped.Node, default) ? null : "stopped",
            TimeSpan.FromSeconds(60), () => $"kubelet to be stopped on {kubeletStopped.Node}");
        using (var testhost = Process.GetProcessById(kubeletStopped.Pid)) testhost.Kill(); // SIGKILL: no revert can run
        crashed.KillTree(); // and to the fleet and its leg (./verify, dotnet test)
        Assert.That(await Lab.Kubelets.IsActiveAsync(kubeletStopped.Node, default), Is.False, "the killed leg left kubelet stopped");
        Assert.That(File.Exists(Path.Combine(Work, "a", "state", "crash-heal", "fault-ledger.jsonl")), Is.False, "the leg kept no ledger on this machine");

        // Another clone of the repository, with a home of its own: nothing of the first leg's machine state is in reach.
        var clone = Path.Combine(Work, "clone");
        var cloned = await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(CliWrap.Cli.Wrap("git")
            .WithArguments(["clone", "--quiet", "--no-hardlinks", LiveRun.Root, clone]).WithValidation(CliWrap.CommandResultValidation.None));
        Assert.That(cloned.ExitCode, Is.Zero, cloned.StandardError);
        var home = Directory.CreateDirectory(Path.Combine(Work, "home-b")).FullName;
        using var next = LiveRun.Fleet(clone, [FleetFile("b", "Category=heal"), "--cluster", "crash-heal", "--out", Path.Combine(Work, "b", "out")],
            new Dictionary<string, string> { ["HOME"] = home, ["NUGET_PACKAGES"] = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages") });
        Assert.That(await next.WaitAsync(TimeSpan.FromMinutes(12)), Is.Zero, next.Output);

        Assert.That(await Lab.Kubelets.IsActiveAsync(kubeletStopped.Node, default), Is.True, $"kubelet runs again on {kubeletStopped.Node}");
        Assert.That(ledger.OpenEntries().Select(e => e.Id), Does.Not.Contain(kubeletStopped.Id), $"the entry is closed in {ledger.Path}");
        // The kubelet is put right over SSH in the pass before the API, the namespace after it: each pass is a result.
        var healing = Directory.GetFiles(Path.Combine(Work, "b", "out", "crash-heal", "allure-results"), "*-result.json")
            .Select(File.ReadAllText).Where(t => t.Contains("\"name\":\"Heal ") || t.Contains("\"name\": \"Heal ")).ToList();
        Assert.That(healing, Is.Not.Empty, "the healing is reported");
        Assert.That(healing, Has.Some.Contains($"on {kubeletStopped.Node}: {Lab.Profile.Commands.StartKubelet}"), "a heal result names the node and the revert it ran");
        Assert.That(healing, Has.All.Contains("\"status\":\"passed\"").Or.All.Contains("\"status\": \"passed\""));
        Assert.That(Directory.Exists(Path.Combine(home, ".cache", "verification")) &&
                    !File.Exists(Path.Combine(Work, "b", "state", "crash-heal", "fault-ledger.jsonl")), Is.True,
            "the second clone ran with its own home and kept no ledger of its own");
        TestContext.Progress.WriteLine($"fleet crash and heal: {kubeletStopped.Fault} on {kubeletStopped.Node} healed from {ledger.Path} by a leg from another clone");
    }

    /// <summary>Issue 11's hardest case: nothing reaches the cluster through the API until the next run puts the API server back.</summary>
    [Test, CancelAfter(1_500_000)]
    [Description("SIGKILL a run while kube-apiserver's manifest is away; the next run moves it back over SSH before it reaches the API, and empties the ledger.")]
    public async Task AKilledRunWhileTheApiServerIsAwayIsHealedBeforeTheNextRunReachesTheApi()
    {
        var ledgerPath = Path.Combine(Work, "ledger.jsonl");
        var ledger = new FaultLedger(ledgerPath);
        const string manifest = "/etc/kubernetes/manifests/kube-apiserver.yaml";

        using var crashed = LiveRun.Start("Category=apiserver", RunParameters("crashed", ledgerPath));
        var away = await UntilAsync(() => ledger.OpenEntries().FirstOrDefault(e => e.Revert.Kind == RevertKind.RestoreStaticPodManifest),
            TimeSpan.FromMinutes(5), () => $"the run to move the API server's manifest away; its output so far:\n{crashed.Output}");
        await UntilAsync(async () => (await Lab.ControlPlane.RunAsync($"test -f {manifest}")).Succeeded ? null : "away",
            TimeSpan.FromSeconds(60), () => $"{manifest} to be gone");

        using (var testhost = Process.GetProcessById(away.Pid)) testhost.Kill(); // SIGKILL: no revert can run
        crashed.KillTree();
        Assert.That((await Lab.ControlPlane.RunAsync($"test -f {manifest}")).Succeeded, Is.False, "the killed run left the manifest away");

        // The next run puts the manifest back, waits for the API server, then for the control plane to settle (the
        // scheduler and controller-manager lost their leases: up to timeouts.controlPlaneSettleSeconds), then checks it.
        using var next = LiveRun.Start("Category=heal", RunParameters("next", ledgerPath));
        var exitCode = await next.WaitAsync(TimeSpan.FromMinutes(15));
        Assert.That(exitCode, Is.Zero, next.Output);
        Assert.That((await Lab.ControlPlane.RunAsync($"test -f {manifest}")).Succeeded, Is.True, "the manifest is back");
        Assert.That(ledger.OpenEntries(), Is.Empty, "the ledger has no open entry");
        var healed = Directory.GetFiles(Path.Combine(Work, "next", "allure-results"), "*-result.json")
            .Select(File.ReadAllText).Where(t => t.Contains(Healing.BeforeApiCheckName)).ToList();
        Assert.That(healed, Has.Count.EqualTo(1), "healed by the pass before the API, reported as a check of its own");
        Assert.That(healed[0], Does.Contain("\"status\": \"passed\"").Or.Contain("\"status\":\"passed\""));
    }

    /// <summary>A node component's fault (issue 11, part 2), as the crash-and-heal test drives it: the category that
    /// injects it, its ledger name, and whether it is in place on the lab (true) or undone (false).</summary>
    public sealed record NodeFault(string Category, string Fault, Func<SafetyOnTheLabTests, LedgerEntry, Task<bool>> InPlace)
    {
        public override string ToString() => Category;
    }

    private async Task<bool> OnNodeSucceedsAsync(string node, string command) => (await Lab.Node(node).RunAsync(command)).Succeeded;

    public static IEnumerable<NodeFault> NodeFaults() =>
    [
        new("container-runtime", "container runtime stopped", (t, e) => t.OnNodeSucceedsAsync(e.Node, "! systemctl is-active --quiet containerd")),
        new("cni", "CNI configuration taken away", (t, e) => t.OnNodeSucceedsAsync(e.Node, "! ls -A /etc/cni/net.d | grep -q .")),
        new("br-netfilter", "bridge-nf-call-iptables off", (t, e) => t.OnNodeSucceedsAsync(e.Node, "[ \"$(sysctl -n net.bridge.bridge-nf-call-iptables)\" = 0 ]")),
        new("kube-proxy-service", "kube-proxy kept off the node", async (t, e) =>
            (await t.Lab.Api.AppsV1.ReadNamespacedDaemonSetAsync("kube-proxy", "kube-system")).Spec.Template.Spec.Affinity is not null),
    ];

    /// <summary>The node components' faults: a run killed while one is in place is healed by the next.</summary>
    [TestCaseSource(nameof(NodeFaults)), CancelAfter(900_000), Category("node-components")]
    [Description("SIGKILL a run while a node component's fault is in place; the next run reverts it from the ledger and empties the ledger.")]
    public async Task AKilledRunWithANodeComponentFaultInPlaceIsHealedByTheNextRun(NodeFault fault)
    {
        var ledgerPath = Path.Combine(Work, "ledger.jsonl");
        var ledger = new FaultLedger(ledgerPath);

        using var crashed = LiveRun.Start($"Category={fault.Category}", RunParameters("crashed", ledgerPath));
        var entry = await UntilAsync(() => ledger.OpenEntries().FirstOrDefault(e => e.Fault == fault.Fault),
            TimeSpan.FromMinutes(5), () => $"the run to inject '{fault.Fault}'; its output so far:\n{crashed.Output}");
        await UntilAsync(async () => await fault.InPlace(this, entry) ? "in place" : null,
            TimeSpan.FromSeconds(120), () => $"'{fault.Fault}' to be in place on {entry.Node}");

        using (var testhost = Process.GetProcessById(entry.Pid)) testhost.Kill(); // SIGKILL: no revert can run
        crashed.KillTree();
        Assert.That(await fault.InPlace(this, entry), Is.True, $"the killed run left '{fault.Fault}' in place");

        using var next = LiveRun.Start("Category=heal", RunParameters("next", ledgerPath));
        var exitCode = await next.WaitAsync(TimeSpan.FromMinutes(8));
        Assert.That(exitCode, Is.Zero, next.Output);
        Assert.That(await fault.InPlace(this, entry), Is.False, $"'{fault.Fault}' is undone on {entry.Node}");
        Assert.That(ledger.OpenEntries(), Is.Empty, "the ledger has no open entry");
    }

    [Test, CancelAfter(600_000)]
    [Description("Two runs started together: one runs, the other refuses within 5 s naming the holder; the lease is gone afterwards.")]
    public async Task TwoRunsAtOnceOneRunsTheOtherRefuses()
    {
        var ledgerPath = Path.Combine(Work, "ledger.jsonl");
        using var first = LiveRun.Start("Category=api", RunParameters("first", ledgerPath));
        using var second = LiveRun.Start("Category=api", RunParameters("second", ledgerPath));
        var codes = await Task.WhenAll(first.WaitAsync(TimeSpan.FromMinutes(8)), second.WaitAsync(TimeSpan.FromMinutes(8)));

        Assert.That(codes.Count(c => c == 0), Is.EqualTo(1), $"exactly one run may pass.\nfirst:\n{first.Output}\nsecond:\n{second.Output}");
        var refused = codes[0] == 0 ? second : first;
        Assert.That(refused.Output, Does.Contain("Another verification run holds this cluster"));
        Assert.That(refused.Output, Does.Match(@"holds this cluster: \S+/pid \d+/run \S+, since"), "the refusal names the holder and since when");
        // A run on this machine is refused by the local lock before anything slow; one from elsewhere by the Lease
        // once it reaches the cluster. Either way the message says how long after the run's start it came.
        var seconds = Regex.Match(refused.Output, @"(\d+(\.\d+)?) s after the run started");
        Assert.That(seconds.Success, Is.True, "the refusal says how long it took");
        TestContext.Progress.WriteLine($"refused {seconds.Groups[1].Value} s after the run started");
        Assert.That(double.Parse(seconds.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(5));

        var lease = await ReadLeaseAsync();
        Assert.That(lease, Is.Null, "the lease is released when the run finishes");
    }

    [Test, CancelAfter(900_000)]
    [Description("After runs that logged in with a password and with a key, no password, key or token is found in results, reports, metrics or output.")]
    public async Task NoSecretReachesTheReports()
    {
        var user = $"vtest{Random.Shared.Next(1000, 9999)}";
        var password = $"pw-{Guid.NewGuid():N}";
        var nodes = Lab.Profile.AllNodes.ToList();
        try
        {
            foreach (var node in nodes)
                (await Lab.Node(node).RunAsync(
                    $"useradd -m {user} && printf '%s:%s\\n' {user} '{password}' | chpasswd && " +
                    $"echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{user} && chmod 440 /etc/sudoers.d/{user}")).EnsureSuccess();

            var ledgerPath = Path.Combine(Work, "ledger.jsonl");
            var withPassword = RunParameters("password", ledgerPath);
            withPassword["login.user"] = user;
            withPassword["login.privateKey"] = "none";
            withPassword["login.passwordVariable"] = "VERIFICATION_TEST_PASSWORD";
            using var passwordRun = LiveRun.Start("Category=api", withPassword, new Dictionary<string, string> { ["VERIFICATION_TEST_PASSWORD"] = password });
            Assert.That(await passwordRun.WaitAsync(TimeSpan.FromMinutes(8)), Is.Zero, passwordRun.Output);

            using var keyRun = LiveRun.Start("Category=api", RunParameters("key", ledgerPath));
            Assert.That(await keyRun.WaitAsync(TimeSpan.FromMinutes(8)), Is.Zero, keyRun.Output);

            foreach (var name in new[] { "password", "key" })
            {
                var render = Process.Start(new ProcessStartInfo(Path.Combine(LiveRun.Root, "tools", "allure", "render"),
                    [Path.Combine(Work, name, "allure-results"), Path.Combine(Work, name, "allure-report")]) { WorkingDirectory = LiveRun.Root })!;
                await render.WaitForExitAsync();
            }

            var adminConf = System.Text.Encoding.UTF8.GetString(await Lab.ControlPlane.DownloadAsync(Lab.Profile.Kubernetes.AdminKubeconfig));
            var keyFile = File.ReadAllText(Directory.GetFiles(Path.Combine(LiveRun.Root, "fixtures", "lab", ".state", "ssh"), "id_*").First(f => !f.EndsWith(".pub")));
            var secrets = new Dictionary<string, string> { ["the login password"] = password };
            foreach (Match m in Regex.Matches(adminConf, @"(client-key-data|token):\s*(\S+)")) secrets[$"admin.conf {m.Groups[1].Value}"] = m.Groups[2].Value;
            foreach (var (line, i) in keyFile.Split('\n').Where(l => l.Length > 40 && !l.StartsWith("-----")).Select((l, i) => (l, i)))
                secrets[$"private key line {i + 1}"] = line.Trim();
            Assert.That(secrets.Keys, Has.Some.StartsWith("admin.conf client-key-data").And.Some.StartsWith("private key"));

            var haystack = Directory.GetFiles(Work, "*", SearchOption.AllDirectories)
                .Where(f => new FileInfo(f).Length < 20_000_000)
                .Select(f => (Name: f, Text: File.ReadAllText(f)))
                .Append((Name: "console output of the password run", Text: passwordRun.Output))
                .Append((Name: "console output of the key run", Text: keyRun.Output)).ToList();
            Assert.That(haystack.Count(h => h.Name.EndsWith("-result.json")), Is.GreaterThanOrEqualTo(2), "both runs wrote results");
            foreach (var (what, secret) in secrets)
                Assert.That(haystack.Where(h => h.Text.Contains(secret)).Select(h => h.Name), Is.Empty, $"{what} leaked");
        }
        finally
        {
            foreach (var node in nodes)
                await Lab.Node(node).RunAsync($"userdel -r {user} 2>/dev/null; rm -f /etc/sudoers.d/{user}");
        }
    }

    [Test, CancelAfter(900_000)]
    [Description("A check leaves kubelet stopped (its start command made a no-op): the next check is blocked and tears down cleanly — no null reference, nothing of another check reported as its own, its outcome recorded.")]
    public async Task ABlockedCheckTearsDownCleanlyAndRecordsItsOutcome()
    {
        const string blockedCheck = "KilledContainerIsRestartedByKubelet";
        var worker = Lab.Profile.FaultTargets[^1]; // the kubelet check's: the book's w3-k8s
        var ledgerPath = Path.Combine(Work, "ledger.jsonl");
        var parameters = RunParameters("blocked", ledgerPath);
        parameters["commands.startKubelet"] = "true";        // the kubelet check "starts" kubelet and leaves it stopped
        parameters["timeouts.podGoneSeconds"] = "20";        // its pod then never goes: fail that wait quickly
        try
        {
            // One at a time, kubelet first: side by side the self-healing check (on w1-k8s) would run meanwhile, not after.
            using var run = LiveRun.Start("Category=kubelet|Category=self-healing", parameters, sequential: true);
            var exitCode = await run.WaitAsync(TimeSpan.FromMinutes(10));
            Assert.That(exitCode, Is.Not.Zero, run.Output);
            Assert.That(run.Output, Does.Contain("Blocked:"), "the kubelet check left the cluster broken, so the next check is blocked");
            Assert.That(run.Output, Does.Not.Contain("NullReferenceException"), "a blocked check tears down without a null reference");

            var results = Directory.GetFiles(Path.Combine(Work, "blocked", "allure-results"), "*-result.json")
                .Select(f => System.Text.Json.JsonDocument.Parse(File.ReadAllText(f)).RootElement).ToList();
            var blocked = results.Single(r => r.GetProperty("name").GetString() == blockedCheck);
            Assert.That(blocked.GetProperty("status").GetString(), Is.EqualTo("broken"));
            Assert.That(blocked.GetProperty("statusDetails").GetProperty("message").GetString(), Does.Contain("Blocked: PodHangsInTerminatingUntilKubeletIsBack left the cluster not as it found it"));
            Assert.That(blocked.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()), Has.None.EqualTo("faults"),
                "the blocked check injected nothing, so it reports no fault (none of another check's either)");

            var outcomes = Harness.Reporting.Metrics.ReadAll(parameters["metrics"]).Where(m => m.Phase == Harness.Reporting.Gate.ResultPhase).ToList();
            Assert.That(outcomes.Where(m => m.Check == blockedCheck).Select(m => m.Status), Is.EqualTo(new[] { "broken" }), "the blocked check's outcome is recorded once");
        }
        finally
        {
            (await Lab.Node(worker).RunAsync("systemctl start kubelet")).EnsureSuccess();
        }
        await LabHealth.WaitHealthyAsync(Lab, $"after starting kubelet on {worker} again");
        Assert.That(new FaultLedger(ledgerPath).OpenEntries(), Is.Empty, "nothing of the run is left open in the ledger");
    }

    private async Task<k8s.Models.V1Lease?> ReadLeaseAsync()
    {
        try { return await Lab.Api.CoordinationV1.ReadNamespacedLeaseAsync(Harness.Safety.RunLease.Name, Lab.Profile.Safety.LeaseNamespace); }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { return null; }
    }

    /// <summary>Polls a local reading (a file, a command) until it yields something, within the deadline.</summary>
    /// <param name="what">What is awaited, asked only when the deadline passed (it may quote the run's output so far).</param>
    private static async Task<T> UntilAsync<T>(Func<Task<T?>> read, TimeSpan deadline, Func<string> what) where T : class
    {
        var seen = await new Until<T?>("a reading", _ => read(), r => r is not null) { Poll = Poll.Every(TimeSpan.FromMilliseconds(200)) }
            .LastWithinAsync(deadline, default);
        return seen.Holds ? seen.Last! : throw new TimeoutException($"timed out after {deadline.TotalSeconds:0} s waiting for {what()}");
    }

    private static Task<T> UntilAsync<T>(Func<T?> read, TimeSpan deadline, Func<string> what) where T : class =>
        UntilAsync(() => Task.FromResult(read()), deadline, what);
}
