using System.Text.Json.Nodes;
using Harness.Reporting;

namespace VersionGate.Fleet;

/// <summary>One cluster's verdict in the fleet: GREEN or RED with the gate's reasons.</summary>
public sealed record ClusterVerdict(string Cluster, bool Green, IReadOnlyList<string> Reasons)
{
    public string Line => $"fleet: {Cluster}: {(Green ? "GREEN" : "RED")} — {string.Join("; ", Reasons)}";
}

/// <summary>
/// <c>./verify fleet FILE --merge DIR</c>: the gate on each leg found under <c>DIR/&lt;name&gt;/</c>, against that cluster's
/// own history, then one Allure 3 report of every leg (reports/allure-report) with an environment per cluster.
/// </summary>
/// <remarks>
/// The legs' results are put into one folder, every result labelled <c>cluster=&lt;name&gt;</c>, and rendered once by
/// tools/allure/render, whose allurerc.mjs makes each cluster an environment matched by that label and adds the
/// quality-gate rule <c>environmentsTested</c> listing every cluster of the fleet file. One <c>allure run</c> over the
/// merged folder evaluates that rule over all clusters at once; per-leg dumps (<c>allure run --dump</c>, then
/// <c>allure generate --dump</c>) keep each leg's own quality-gate results but <c>generate</c> evaluates no rule, so a
/// missing cluster would not turn the report red.
/// </remarks>
public static class FleetMerge
{
    public const string ClusterLabel = "cluster";
    public const string HistoryFile = "history.jsonl";

    public static async Task<int> RunAsync(FleetFile fleet, string outFolder, string root, TextWriter stdout, CancellationToken cancellation = default)
    {
        var merged = Path.Combine(outFolder, "merged-results");
        if (Directory.Exists(merged)) Directory.Delete(merged, recursive: true);
        Directory.CreateDirectory(merged);

        var judged = Path.Combine(outFolder, ".judged");
        var verdicts = new List<ClusterVerdict>();
        foreach (var cluster in fleet.Clusters)
            verdicts.Add(await JudgeAsync(fleet, cluster, Path.Combine(outFolder, cluster.Name), Path.Combine(judged, cluster.Name), merged, root));
        Directory.Delete(judged, recursive: true);
        foreach (var verdict in verdicts) await stdout.WriteLineAsync(verdict.Line);

        // One report of every leg, one environment per cluster; its history is the fleet's, beside the clusters' state.
        var environment = new Dictionary<string, string?>
        {
            ["VERIFICATION_ENVIRONMENTS"] = string.Join(",", fleet.Clusters.Select(c => c.Name)),
            // Whether each cluster ran all its checks is its own gate's question (above); the merged rules ask only
            // that no check failed and that every cluster has results.
            ["VERIFICATION_EXPECTED_CHECKS"] = "",
        };
        var report = Path.Combine(root, "reports", "allure-report");
        var render = await AllureCli.RenderAsync(merged, report, Path.Combine(fleet.State, HistoryFile), cancellation, environment);
        await stdout.WriteLineAsync(render.Rendered
            ? $"fleet: report at {Path.Combine(report, "index.html")} (one environment per cluster; open it: python3 -m http.server -d {report} -b 127.0.0.1 8080)"
            : $"fleet: no report rendered from {merged}: {(render.Error + render.Output).Trim().Split('\n')[^1]}");

        var qualityGate = await AllureCli.QualityGateAsync(merged, [], cancellation, environment);
        var fleetReasons = qualityGate switch
        {
            { Evaluated: false } => [],
            { Passed: true } => [],
            { Failures.Count: > 0 } failed => failed.Failures.Select(f => $"Allure quality gate: {f}").ToList(),
            var failed => new List<string> { $"Allure quality gate failed (exit {failed.ExitCode})" },
        };
        if (!qualityGate.Evaluated)
            await stdout.WriteLineAsync($"fleet: Allure quality gate not evaluated on {merged}: {(qualityGate.Error + qualityGate.Output).Trim().Split('\n')[0]}");
        foreach (var reason in fleetReasons) await stdout.WriteLineAsync($"fleet: {reason}");

        var green = verdicts.Count(v => v.Green);
        var allGreen = green == verdicts.Count && fleetReasons.Count == 0;
        await stdout.WriteLineAsync($"fleet: {(allGreen ? "GREEN" : "RED")} ({green} of {verdicts.Count} clusters green)");
        return allGreen ? GateCommand.MayBump : GateCommand.DoNotBump;
    }

    /// <summary>
    /// The gate on one leg (its table in <c>DIR/&lt;name&gt;/gate.log</c>), and the leg's results with the gate's result
    /// into the merged folder, labelled with the cluster. A leg without results is RED, and gets a gate result saying so.
    /// </summary>
    /// <param name="judged">The gate writes its result into the folder it judges: a copy, so the leg's own folder stays
    /// as the leg left it and a second merge judges the same thing.</param>
    private static async Task<ClusterVerdict> JudgeAsync(FleetFile fleet, FleetCluster cluster, string legFolder, string judged, string merged, string root)
    {
        var legResults = Path.Combine(legFolder, Leg.ResultsFolder);
        if (!Directory.Exists(legResults) || Directory.GetFiles(legResults, "*-result.json").Length == 0)
        {
            var beforeFailed = Path.Combine(legFolder, Leg.BeforeFailedFile);
            var why = File.Exists(beforeFailed)
                ? $"the leg {File.ReadAllText(beforeFailed)}"
                : $"no results in {legResults}: the leg did not run, or its results were not collected";
            GateCommand.WriteGateResult(false, $"RED: do not bump:\n{why}", why, null, judged);
            Label(judged, merged, cluster.Name);
            return new ClusterVerdict(cluster.Name, false, [why]);
        }
        CopyFolder(legResults, judged);

        var profile = Path.Combine(legFolder, LegProfile.FileName(cluster.Name));
        if (!File.Exists(profile)) LegProfile.Write(fleet, cluster, legFolder);
        // Its run records: those the leg brought along (CI), else the cluster's state folder (this machine).
        var metrics = Path.Combine(legFolder, Leg.MetricsFile);
        if (!File.Exists(metrics)) metrics = Path.Combine(fleet.StateOf(cluster.Name), Leg.MetricsFile);

        await using var gateLog = new StringWriter();
        var (_, verdict) = await GateCommand.JudgeAsync(["--profile", profile, "--metrics", metrics, "--allure-results", judged], gateLog, gateLog, root);
        await File.WriteAllTextAsync(Path.Combine(legFolder, "gate.log"), gateLog.ToString());
        Label(judged, merged, cluster.Name);
        if (verdict is null)
        {
            var why = $"the gate could not judge it: {gateLog.ToString().Trim().Split('\n')[0]} (see {Path.Combine(legFolder, "gate.log")})";
            return new ClusterVerdict(cluster.Name, false, [why]);
        }
        return verdict.MayBump
            ? new ClusterVerdict(cluster.Name, true, [$"the version may be bumped ({Gate.FormatVersions(verdict.Versions, verdict.BaselineVersions)})"])
            : new ClusterVerdict(cluster.Name, false, verdict.Reasons);
    }

    /// <summary>
    /// Moves a leg's files into the merged folder, each result labelled <c>cluster=&lt;name&gt;</c> (its Allure
    /// environment). The run-level files are the same for every leg but environment.properties, whose lines are kept
    /// under the cluster's name (<c>book.kubernetes=v1.20.2</c>).
    /// </summary>
    public static void Label(string legResults, string merged, string cluster)
    {
        foreach (var file in Directory.GetFiles(legResults))
        {
            var name = Path.GetFileName(file);
            var target = Path.Combine(merged, name);
            if (name.EndsWith("-result.json", StringComparison.Ordinal))
            {
                var result = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
                var labels = result["labels"] as JsonArray ?? [];
                foreach (var old in labels.Where(l => l?["name"]?.GetValue<string>() == ClusterLabel).ToList()) labels.Remove(old);
                labels.Add(new JsonObject { ["name"] = ClusterLabel, ["value"] = cluster });
                result["labels"] = labels;
                File.WriteAllText(target, result.ToJsonString());
            }
            else if (name == "environment.properties")
                File.AppendAllLines(target, File.ReadAllLines(file).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => $"{cluster}.{l}"));
            else if (!File.Exists(target))
                File.Copy(file, target);
        }
        Directory.Delete(legResults, recursive: true);
    }

    private static void CopyFolder(string from, string to)
    {
        if (Directory.Exists(to)) Directory.Delete(to, recursive: true);
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
