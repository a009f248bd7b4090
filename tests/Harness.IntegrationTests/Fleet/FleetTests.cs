using System.Text.Json;
using Harness.Reporting;
using NUnit.Framework;
using VersionGate.Fleet;

namespace Harness.IntegrationTests.Fleet;

/// <summary>
/// The real fleet command over two clusters, each leg played by <c>stand-in-leg</c> (it writes two checks' Allure results
/// and run records as ./verify would, no cluster), merged and rendered by the real, pinned Allure CLI.
/// </summary>
[Category("allure-cli")]
[NonParallelizable] // the leg command is a process-wide environment variable; gate results go through Report's current test
public class FleetTests
{
    private static readonly string Repository = AllureResults.RepositoryRoot()!;
    private string _folder = null!;
    private string _previousLeg = null!;

    /// <summary>The repository as the fleet sees it: the real profiles, and its own reports/ folder for the report.</summary>
    private string Root => Path.Combine(_folder, "repository");
    private string FleetPath => Path.Combine(_folder, "pair.yaml");
    private string Out => Path.Combine(_folder, "out");
    private string Report => Path.Combine(Root, "reports", "allure-report");

    [SetUp]
    public void CreateFleet()
    {
        Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "fleet-" + Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(Path.Combine(Root, "fixtures"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "fixtures", "profiles"), Path.Combine(Repository, "fixtures", "profiles"));
        File.WriteAllText(FleetPath, """
            state: state
            clusters:
              - name: book
                profile: lab
                environment: {LAB_INSTANCE: "0"}
                filter: Category=book
              - name: revised
                profile: lab-revised
                environment: {LAB_INSTANCE: "1"}
            """);
        _previousLeg = Environment.GetEnvironmentVariable(Leg.CommandVariable) ?? "";
        Environment.SetEnvironmentVariable(Leg.CommandVariable, Path.Combine(Repository, "tests", "Harness.IntegrationTests", "Fleet", "stand-in-leg"));
    }

    [TearDown]
    public void RemoveFleet()
    {
        Environment.SetEnvironmentVariable(Leg.CommandVariable, _previousLeg.Length > 0 ? _previousLeg : null);
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<(int ExitCode, string Output)> FleetAsync(params string[] args) => await FleetAsync(args, default);

    private async Task<(int ExitCode, string Output)> FleetAsync(string[] args, CancellationToken stop)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await FleetCommand.RunAsync([FleetPath, .. args], stdout, stderr, Root, stop);
        return (exitCode, stdout + stderr.ToString());
    }

    [Test, CancelAfter(240_000)]
    public async Task Two_legs_make_one_report_with_an_environment_per_cluster_and_a_green_verdict_per_cluster()
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");

        var (exitCode, output) = await FleetAsync("--out", Out);

        Assert.That(exitCode, Is.EqualTo(FleetCommand.Green), output);
        Assert.That(output, Does.Contain("[book] 1 passed, 0 failed, running ...").And.Contain("[revised] 2 passed, 0 failed, done (exit 0"));
        // dotnet test's summary once per leg, verbatim: what CI counts.
        Assert.That(System.Text.RegularExpressions.Regex.Matches(output, @"^Total tests: 2\n     Passed: 2\n", System.Text.RegularExpressions.RegexOptions.Multiline), Has.Count.EqualTo(2));
        Assert.That(output, Does.Contain("fleet: book: GREEN — the version may be bumped").And.Contain("fleet: revised: GREEN —"));
        Assert.That(output, Does.Contain("fleet: GREEN (2 of 2 clusters green)"));

        // Each leg's files are its own: profile, results, log, and its run records in its cluster's state folder.
        foreach (var cluster in new[] { "book", "revised" })
        {
            Assert.That(File.ReadAllText(Path.Combine(Out, cluster, $"{cluster}.yaml")), Does.Contain($"name: {cluster}"));
            Assert.That(File.ReadAllText(Path.Combine(_folder, "state", cluster, "metrics.jsonl")), Does.Contain($"\"profile\":\"{cluster}\""));
            Assert.That(File.ReadAllText(Path.Combine(Out, cluster, "leg.log")), Does.Contain("Total tests: 2"));
        }
        Assert.That(File.ReadAllText(Path.Combine(Out, "book", "leg.log")), Does.Not.Contain("revised"));

        // The report: every result in its cluster's environment (two checks and the gate's result each), the rule green.
        var environments = Directory.GetFiles(Path.Combine(Report, "data", "test-results"))
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement)
            .GroupBy(r => r.GetProperty("environment").GetString()!)
            .ToDictionary(g => g.Key, g => g.Select(r => r.GetProperty("name").GetString()).Order().ToList());
        Assert.That(environments, Is.EqualTo(new Dictionary<string, List<string?>>
        {
            ["book"] = ["CheckA", "CheckB", "Version-bump gate"],
            ["revised"] = ["CheckA", "CheckB", "Version-bump gate"],
        }));
        Assert.That(Rule("clusters/environmentsTested"), Is.EqualTo((true, "All expected environments were tested: \"book\", \"revised\"")));
        Assert.That(File.Exists(Path.Combine(_folder, "state", FleetMerge.HistoryFile)), Is.True, "the fleet's report history lives beside the clusters' state");
    }

    [Test, CancelAfter(240_000)]
    public async Task A_cluster_whose_leg_left_no_results_turns_the_report_and_the_fleet_red_naming_it()
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        // As a CI matrix runs it: one job per cluster, then a merge of what the jobs left; revised's job left nothing.
        var (legExit, legOutput) = await FleetAsync("--cluster", "book", "--out", Out);
        Assert.That(legExit, Is.EqualTo(0), legOutput);
        Assert.That(Directory.Exists(Path.Combine(Out, "revised")), Is.False, "--cluster runs that leg only");

        var (exitCode, output) = await FleetAsync("--merge", Out);

        Assert.That(exitCode, Is.EqualTo(FleetCommand.Red), output);
        Assert.That(output, Does.Contain("fleet: book: GREEN —"));
        Assert.That(output, Does.Contain($"fleet: revised: RED — no results in {Path.Combine(Out, "revised", "allure-results")}: the leg did not run, or its results were not collected"));
        Assert.That(output, Does.Contain("fleet: Allure quality gate: The following environments were not tested: \"revised\"; expected all of: \"book\", \"revised\" (clusters/environmentsTested)"));
        Assert.That(output, Does.Contain("fleet: RED (1 of 2 clusters green)"));
        Assert.That(Rule("clusters/environmentsTested"), Is.EqualTo((false, "The following environments were not tested: \"revised\"; expected all of: \"book\", \"revised\"")));
        var revisedGate = Directory.GetFiles(Path.Combine(Report, "data", "test-results"))
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement)
            .Single(r => r.GetProperty("environment").GetString() == "revised");
        Assert.That((revisedGate.GetProperty("name").GetString(), revisedGate.GetProperty("status").GetString()), Is.EqualTo(("Version-bump gate", "failed")));
    }

    [Test, CancelAfter(240_000)]
    public async Task A_cluster_whose_before_command_fails_runs_no_check_and_is_red_naming_the_command()
    {
        Assert.That(AllureCli.NodeAvailable(), Is.True, "node and npm must be on PATH for the real Allure CLI");
        // revised's lab cannot be brought up: its 'before' fails, with the leg's environment (LAB_INSTANCE=1) in reach.
        File.WriteAllText(FleetPath, File.ReadAllText(FleetPath).Replace(
            "environment: {LAB_INSTANCE: \"1\"}", "environment: {LAB_INSTANCE: \"1\"}\n    before: test \"$LAB_INSTANCE\" = 0 || exit 3"));

        var (exitCode, output) = await FleetAsync("--out", Out);

        Assert.That(exitCode, Is.EqualTo(FleetCommand.Red), output);
        Assert.That(Directory.Exists(Path.Combine(Out, "revised", "allure-results")), Is.False, "no check ran on revised");
        Assert.That(output, Does.Contain("fleet: book: GREEN —"));
        Assert.That(output, Does.Contain("fleet: revised: RED — the leg its 'before' command failed (exit 3): test \"$LAB_INSTANCE\" = 0 || exit 3; no check ran"));
        Assert.That(output, Does.Contain("fleet: RED (1 of 2 clusters green)"));
    }

    [Test, CancelAfter(120_000)]
    public async Task Stopping_the_fleet_gives_each_running_leg_Ctrl_C_so_it_reverts_and_records_the_interruption()
    {
        Environment.SetEnvironmentVariable("STAND_IN_SECONDS", "60");
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));

            var (exitCode, output) = await FleetAsync(["--out", Out], stop.Token);

            Assert.That(exitCode, Is.EqualTo(FleetCommand.Red), output);
            Assert.That(output, Does.Contain("[book] stopping: SIGINT to its process group").And.Contain("[revised] stopping: SIGINT"));
            Assert.That(output, Does.Contain("[book] 0 passed, 0 failed, stopped, done (exit 130"));
            foreach (var cluster in new[] { "book", "revised" })
            {
                Assert.That(File.Exists(Path.Combine(Out, cluster, "reverted")), Is.True, $"{cluster}'s leg ran its Ctrl-C clean-up");
                Assert.That(File.ReadAllLines(Path.Combine(_folder, "state", cluster, "metrics.jsonl"))[^1], Does.Contain("\"outcome\":\"interrupted\""));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("STAND_IN_SECONDS", null);
        }
    }

    /// <summary>A rule of the rendered report's Quality Gates tab: passed, and its message.</summary>
    private (bool, string?) Rule(string rule) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Report, "widgets", "quality-gate.json"))).RootElement
            .EnumerateObject().Single().Value.EnumerateArray()
            .Where(r => r.GetProperty("rule").GetString() == rule)
            .Select(r => (r.GetProperty("success").GetBoolean(), r.GetProperty("message").GetString()))
            .Single();
}
