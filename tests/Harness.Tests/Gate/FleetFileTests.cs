using Harness.Profiles;
using Harness.Reporting;
using NUnit.Framework;
using VersionGate.Fleet;

namespace Harness.Tests.Gate;

/// <summary>The fleet file (./verify fleet): what it reads, the one message each mistake gets, and each leg's own profile.</summary>
public class FleetFileTests
{
    private static readonly string Repository = AllureResults.RepositoryRoot()!;
    private static readonly string Profiles = Path.Combine(Repository, "fixtures", "profiles");

    private string _folder = null!;
    private string FleetPath => Path.Combine(_folder, "fleet.yaml");

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "fleet-file-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private FleetFile Parse(string yaml) => FleetFile.Parse(yaml, FleetPath, Profiles);

    [Test]
    public void The_example_fleet_file_reads_as_the_contract_describes_it()
    {
        var fleet = FleetFile.Load(Path.Combine(Repository, "fixtures", "fleet", "lab-pair.yaml"), Profiles);

        Assert.That(fleet.State, Is.EqualTo(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "verification", "fleet")));
        Assert.That(fleet.Concurrency, Is.EqualTo(2));
        Assert.That(fleet.Clusters.Select(c => c.Name), Is.EqualTo(new[] { "book", "revised" }));
        var book = fleet.Clusters[0];
        Assert.That(book.Profile, Is.EqualTo(Path.Combine(Profiles, "lab.yaml")));
        Assert.That(book.Environment, Is.EqualTo(new Dictionary<string, string> { ["LAB_INSTANCE"] = "0" }));
        Assert.That(book.Overrides["safety"], Is.EqualTo(new Dictionary<object, object> { ["ledger"] = "controlPlane" }));
        Assert.That((book.Filter, book.Before), Is.EqualTo(((string?)null, "fixtures/lab/lab up")));
        var revised = fleet.Clusters[1];
        Assert.That((revised.Profile, revised.Filter), Is.EqualTo((Path.Combine(Profiles, "lab-revised.yaml"), (string?)null)));
        Assert.That(revised.Environment["LAB_INSTANCE"], Is.EqualTo("1"), "the revised lab is the lab's instance 1");
        Assert.That(revised.Overrides["discovery"], Is.EqualTo(new Dictionary<object, object> { ["vagrantDirectory"] = "../lab/.instances/1" }));
    }

    [Test]
    public void State_and_a_profile_path_are_relative_to_the_fleet_file_and_state_and_concurrency_have_defaults()
    {
        File.Copy(Path.Combine(Profiles, "lab.yaml"), Path.Combine(_folder, "mine.yaml"));

        var fleet = Parse("clusters:\n  - {name: one, profile: ./mine.yaml}\n");
        var withState = Parse("state: shared\nconcurrency: 3\nclusters:\n  - {name: one, profile: lab}\n");

        Assert.That((fleet.State, fleet.Concurrency), Is.EqualTo((
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "verification", "fleet"), FleetFile.DefaultConcurrency)));
        Assert.That(fleet.Clusters[0].Profile, Is.EqualTo(Path.Combine(_folder, "mine.yaml")));
        Assert.That((withState.State, withState.Concurrency, withState.StateOf("one")), Is.EqualTo((Path.Combine(_folder, "shared"), 3, Path.Combine(_folder, "shared", "one"))));
    }

    [TestCase("clusters:\n  - {name: Book, profile: lab}\n", "cluster 'Book': 'name' may hold only lower-case letters, digits and '-'")]
    [TestCase("clusters:\n  - {name: a, profile: lab}\n  - {name: a, profile: lab}\n", "cluster 'a': 'name' is given twice")]
    [TestCase("clusters:\n  - {name: a, profile: nosuch}\n", "cluster 'a': 'profile' is 'nosuch', which is no profile: known profiles are book, lab, lab-revised, revised")]
    [TestCase("clusters:\n  - {name: a}\n", "cluster 'a': 'profile' is missing")]
    [TestCase("clusters:\n  - {name: a, profile: lab, overrides: [x]}\n", "cluster 'a': 'overrides' is a list; give a mapping with a profile file's keys")]
    [TestCase("clusters:\n  - {name: a, profile: lab, overrides: plain}\n", "cluster 'a': 'overrides' is a plain value; give a mapping")]
    [TestCase("clusters:\n  - {name: a, profile: lab, environment: [x]}\n", "cluster 'a': 'environment' is a list; give a mapping of variable: value")]
    [TestCase("clusters:\n  - {name: a, profile: lab, environment: {\"1X\": y}}\n", "cluster 'a': 'environment' names '1X', which is no environment variable name")]
    [TestCase("clusters:\n  - {name: a, profile: lab, overide: {}}\n", "cluster 'a': 'overide' is not a cluster key (known: name, profile, environment, overrides, filter, before)")]
    [TestCase("clusters:\n  - {name: a, profile: lab, before: [up]}\n", "cluster 'a': 'before' must be one shell command")]
    [TestCase("cluster:\n  - {name: a, profile: lab}\n", "unknown key 'cluster' (known: state, concurrency, clusters)")]
    [TestCase("clusters: []\n", "'clusters' must list at least one cluster")]
    [TestCase("concurrency: 0\nclusters:\n  - {name: a, profile: lab}\n", "'concurrency' is '0'; give a whole number of at least 1")]
    [TestCase("- a\n", "is not a YAML mapping with 'clusters:'")]
    [TestCase("clusters: [\n", "is malformed at line")]
    public void A_wrong_fleet_file_is_one_message_naming_the_file_the_cluster_and_the_key(string yaml, string message)
    {
        var error = Assert.Throws<FleetFileException>(() => Parse(yaml))!;

        Assert.That(error.Message, Does.StartWith($"fleet: {FleetPath}"));
        Assert.That(error.Message, Does.Contain(message));
    }

    [Test]
    public void A_leg_profile_deep_merges_the_overrides_into_the_profile_and_is_named_after_the_cluster()
    {
        var fleet = Parse("""
            state: state
            clusters:
              - name: book
                profile: lab
                overrides:
                  timeouts: {podReadySeconds: 300}
                  workers: [w1-k8s, w2-k8s]
                  discovery: {vagrantEnvironment: {LAB_INSTANCE: "1"}}
            """);

        var profile = ProfileLoader.Parse(LegProfile.Yaml(fleet, fleet.Clusters[0]), Path.Combine(_folder, "out", "book.yaml"));
        var lab = ProfileLoader.Load("lab", Profiles);

        Assert.That(profile.Name, Is.EqualTo("book"));
        Assert.That(profile.Timeouts.PodReadySeconds, Is.EqualTo(300), "the override");
        Assert.That(profile.Timeouts.PodGoneSeconds, Is.EqualTo(lab.Timeouts.PodGoneSeconds), "a sibling the override left alone");
        Assert.That(profile.Workers, Is.EqualTo(new[] { "w1-k8s", "w2-k8s" }), "a list replaces the profile's");
        Assert.That(profile.Discovery.VagrantEnvironment, Is.EqualTo(new Dictionary<string, string>
        {
            ["DOCKER_HOST"] = "unix:///run/podman/podman.sock", ["LAB_INSTANCE"] = "1",
        }));
        Assert.That(fleet.Clusters[0].Overrides["discovery"], Is.EqualTo(new Dictionary<object, object>
        {
            ["vagrantEnvironment"] = new Dictionary<object, object> { ["LAB_INSTANCE"] = "1" },
        }), "the fleet file's own overrides are left as read");
    }

    [Test]
    public void A_leg_profile_keeps_the_profiles_relative_paths_pointing_where_they_did_and_its_state_under_the_clusters_folder()
    {
        var fleet = Parse("state: state\nclusters:\n  - {name: book, profile: lab}\n  - name: own\n    profile: lab\n    overrides: {login: {knownHostsFile: keys.json}, safety: {ledgerFile: /var/tmp/ledger.jsonl}}\n");

        var book = ProfileLoader.Parse(LegProfile.Yaml(fleet, fleet.Clusters[0]), Path.Combine(_folder, "out", "book", "book.yaml"));
        var own = ProfileLoader.Parse(LegProfile.Yaml(fleet, fleet.Clusters[1]), Path.Combine(_folder, "out", "own", "own.yaml"));
        var lab = ProfileLoader.Load("lab", Profiles);

        Assert.That(book.ResolvePath(book.Discovery.VagrantDirectory), Is.EqualTo(lab.ResolvePath(lab.Discovery.VagrantDirectory)));
        Assert.That(book.Login.KnownHostsFile, Is.EqualTo(Path.Combine(_folder, "state", "book", "known_hosts.json")));
        Assert.That(book.Safety.LedgerFile, Is.EqualTo(Path.Combine(_folder, "state", "book", "fault-ledger.jsonl")));
        // Set by the fleet file: kept, and a relative path resolves against the profile's folder as a run parameter's does.
        Assert.That(own.Login.KnownHostsFile, Is.EqualTo(Path.Combine(Profiles, "keys.json")));
        Assert.That(own.Safety.LedgerFile, Is.EqualTo("/var/tmp/ledger.jsonl"));
    }

    [Test]
    public void An_override_the_profile_does_not_have_is_bad_input_naming_the_cluster()
    {
        var fleet = Parse("clusters:\n  - {name: book, profile: lab, overrides: {timeouts: {podReadySecs: 3}}}\n");

        var error = Assert.Throws<FleetFileException>(() => LegProfile.Yaml(fleet, fleet.Clusters[0]))!;

        Assert.That(error.Message, Does.StartWith($"fleet: {FleetPath}: cluster 'book': 'overrides' do not fit profile {Path.Combine(Profiles, "lab.yaml")}"));
        Assert.That(error.Message, Does.Contain("the merged profile is malformed: Property 'podReadySecs' not found"));
        Assert.That(error.Message, Does.Not.Contain(" line "), "line numbers of YAML the user never wrote would mislead");
    }

    [Test]
    public void A_legs_progress_counts_its_finished_tests_and_keeps_dotnet_tests_summary_verbatim()
    {
        var progress = new LegProgress("book");
        string[] output =
        [
            "[12:00:01] S1: steady state", "  Passed ApiAccessFromAWorker [13 s]", "  Failed PodHangsInTerminating [2 m]",
            "  Skipped CoreDnsAnswers", "  Passed DrainMovesPodsAway [1 m]", "", "Test Run Failed.", "Total tests: 4",
            "     Passed: 2", "     Failed: 1", "    Skipped: 1", " Total time: 3.1 Minutes", "done",
        ];

        var changes = output.Count(progress.Read);

        Assert.That(changes, Is.EqualTo(4), "one console line per finished test");
        Assert.That(progress.Line("running ..."), Is.EqualTo("[book] 2 passed, 1 failed, 1 skipped, running ..."));
        Assert.That(progress.Summary, Is.EqualTo(output[6..12]));
        Assert.That(new LegProgress("revised").Line("running ..."), Is.EqualTo("[revised] 0 passed, 0 failed, running ..."));
    }

    [Test]
    public async Task List_prints_the_clusters_names_as_a_JSON_array_on_one_line()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await FleetCommand.RunAsync([Path.Combine(Repository, "fixtures", "fleet", "lab-pair.yaml"), "--list"], stdout, stderr, Repository);

        Assert.That(exitCode, Is.EqualTo(FleetCommand.Green), stderr.ToString());
        Assert.That(stdout.ToString(), Is.EqualTo("[\"book\",\"revised\"]" + Environment.NewLine));
    }

    [TestCase("--cluster", "nosuch", "--out", "x", "has no cluster 'nosuch'; its clusters: a")]
    [TestCase("--cluster", "a", "", "", "--cluster NAME needs --out DIR")]
    [TestCase("--merge", "x", "--out", "y", "--merge DIR takes no other option")]
    [TestCase("--bogus", "", "", "", "unknown option '--bogus'")]
    public async Task Bad_input_exits_2_with_one_message_and_runs_nothing(string option, string value, string option2, string value2, string message)
    {
        File.WriteAllText(FleetPath, "state: state\nclusters:\n  - {name: a, profile: lab}\n");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string[] args = [FleetPath, .. new[] { option, value, option2, value2 }.Where(a => a.Length > 0)];

        var exitCode = await FleetCommand.RunAsync(args, stdout, stderr, Repository);

        Assert.That(exitCode, Is.EqualTo(FleetCommand.BadInput));
        Assert.That(stderr.ToString(), Does.StartWith("fleet: ").And.Contain(message));
        Assert.That(stdout.ToString(), Is.Empty);
        Assert.That(Directory.Exists(Path.Combine(_folder, "state")), Is.False, "nothing ran");
    }
}
