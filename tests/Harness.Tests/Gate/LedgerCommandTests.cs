using System.Text.Json;
using Harness.Faults;
using Harness.Reporting;
using NUnit.Framework;
using VersionGate;

namespace Harness.Tests.Gate;

/// <summary><c>./verify heal --list</c> and <c>./verify heal --forget &lt;id&gt;</c>, in-process, over a ledger and results folder in a temp folder.</summary>
public class LedgerCommandTests
{
    private static readonly string Repository = AllureResults.RepositoryRoot()!;
    private string _folder = null!;
    private string LedgerPath => Path.Combine(_folder, "fault-ledger.jsonl");
    private string Results => Path.Combine(_folder, "allure-results");

    [SetUp]
    public void CreateFolder()
    {
        Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "ledger-command-" + Guid.NewGuid().ToString("N")));
    }

    [TearDown]
    public void RemoveFolder()
    {
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<(int ExitCode, string Out, string Error)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await LedgerCommand.RunAsync([.. args, "--ledger", LedgerPath, "--results", Results], stdout, stderr, Repository);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private FaultLedger Ledger => new(LedgerPath);

    private static LedgerEntry BookOnTheLab(string id) =>
        new(id, "20261129T211200Z-812", "Verification.KubeProxyTests.PodUnreachableUntilTheNodeReboots", "pod network broken", "w1-k8s",
            "modprobe -r br_netfilter && systemctl restart network", Revert.RebootNode("w1-k8s", "modprobe br_netfilter"),
            DateTimeOffset.UtcNow.AddHours(-1), "host-of-a-dead-run", 812, "book", "uid-of-the-lab");

    [Test]
    public void The_verify_script_hands_heal_list_and_forget_to_this_command() =>
        Assert.That((LedgerCommand.Handles(["forget", "abc"]), LedgerCommand.Handles(["list"]), LedgerCommand.Handles(["--profile", "lab"])),
            Is.EqualTo((true, true, false)));

    [Test]
    public async Task List_prints_every_open_entry_with_its_id_profile_and_cluster()
    {
        Ledger.Open(BookOnTheLab("3f2a9c0d11"));
        Ledger.Open(BookOnTheLab("closed-one"));
        Ledger.Close("closed-one", "healed by a later run");

        var (exitCode, output, _) = await Run("list");

        Assert.That(exitCode, Is.EqualTo(LedgerCommand.Done));
        Assert.That(output, Does.Contain($"ledger {LedgerPath}: 1 entry open"));
        Assert.That(output, Does.Contain("  3f2a9c0d11: pod network broken on w1-k8s (revert: on w1-k8s: modprobe br_netfilter; reboot)")
            .And.Contain("profile book, cluster uid-of-the-lab"));
        Assert.That(output, Does.Not.Contain("closed-one"));
    }

    [Test]
    public async Task Forget_closes_the_entry_without_its_revert_prints_it_and_reports_it()
    {
        Ledger.Open(BookOnTheLab("3f2a9c0d11"));
        Ledger.Open(BookOnTheLab("other"));

        var (exitCode, output, error) = await Run("forget", "3f2a9c0d11", "--profile", "lab");

        Assert.That(exitCode, Is.EqualTo(LedgerCommand.Done), error);
        Assert.That(Ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "other" }));
        Assert.That(File.ReadAllLines(LedgerPath).Last(), Does.Contain("\"id\":\"3f2a9c0d11\"").And.Contain(FaultLedger.ForgottenOutcome));
        Assert.That(output, Does.Contain("ledger entry 3f2a9c0d11 closed as \"forgotten: repaired by hand (user said so)\" without running its revert")
            .And.Contain("pod network broken on w1-k8s"));

        var results = Directory.GetFiles(Results, "*-result.json").Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement).ToList();
        Assert.That(results, Has.Count.EqualTo(1));
        var result = results[0];
        Assert.That(result.GetProperty("name").GetString(), Is.EqualTo(LedgerCommand.ForgetCheckName));
        Assert.That(result.GetProperty("status").GetString(), Is.EqualTo("passed"));
        Assert.That(result.GetProperty("statusDetails").GetProperty("message").GetString(), Does.Contain("3f2a9c0d11").And.Contain("modprobe br_netfilter"));
        Assert.That(result.GetProperty("steps")[0].GetProperty("name").GetString(), Does.StartWith("forget 3f2a9c0d11: pod network broken on w1-k8s"));
    }

    [Test]
    public async Task A_unique_prefix_of_the_id_is_enough()
    {
        Ledger.Open(BookOnTheLab("3f2a9c0d11"));

        var (exitCode, _, _) = await Run("forget", "3f2a");

        Assert.That(exitCode, Is.EqualTo(LedgerCommand.Done));
        Assert.That(Ledger.OpenEntries(), Is.Empty);
    }

    [Test]
    public async Task An_unknown_id_exits_2_listing_the_open_entries_and_changes_nothing()
    {
        Ledger.Open(BookOnTheLab("3f2a9c0d11"));
        var before = File.ReadAllText(LedgerPath);

        var (exitCode, output, error) = await Run("forget", "nope-1234");

        Assert.That(exitCode, Is.EqualTo(LedgerCommand.BadInput));
        Assert.That(error, Does.StartWith($"heal: no open ledger entry 'nope-1234' in {LedgerPath}. Open entries:\n  3f2a9c0d11: pod network broken on w1-k8s"));
        Assert.That(output, Is.Empty);
        Assert.That(File.ReadAllText(LedgerPath), Is.EqualTo(before));
        Assert.That(Directory.Exists(Results) && Directory.GetFiles(Results).Length > 0, Is.False, "nothing reported");
    }

    [Test]
    public async Task An_ambiguous_prefix_exits_2_naming_the_candidates()
    {
        Ledger.Open(BookOnTheLab("abcd0001"));
        Ledger.Open(BookOnTheLab("abcd0002"));

        var (exitCode, _, error) = await Run("forget", "abcd");

        Assert.That(exitCode, Is.EqualTo(LedgerCommand.BadInput));
        Assert.That(error, Does.Contain("'abcd' is the start of 2 open entries").And.Contain("abcd0001").And.Contain("abcd0002"));
        Assert.That(Ledger.OpenEntries(), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task An_entry_of_a_run_that_is_still_running_is_not_forgotten()
    {
        Ledger.Open(BookOnTheLab("live") with { Host = Environment.MachineName, Pid = Environment.ProcessId, InjectedAt = DateTimeOffset.UtcNow });

        var (exitCode, _, error) = await Run("forget", "live");

        Assert.That(exitCode, Is.EqualTo(LedgerCommand.BadInput));
        Assert.That(error, Does.Contain("still running").And.Contain($"pid {Environment.ProcessId}"));
        Assert.That(Ledger.OpenEntries().Select(e => e.Id), Is.EqualTo(new[] { "live" }));
    }

    [TestCase(new[] { "forget" }, "forget needs the id of a ledger entry")]
    [TestCase(new[] { "forget", "a", "b" }, "unknown argument 'b'")]
    [TestCase(new[] { "list", "--profile", "labb" }, "Unknown profile 'labb'")]
    public async Task Bad_input_exits_2_with_one_clear_line(string[] args, string message)
    {
        var (exitCode, _, error) = await Run(args);

        Assert.That(exitCode, Is.EqualTo(LedgerCommand.BadInput));
        Assert.That(error.Split('\n')[0], Does.StartWith("heal: ").And.Contain(message));
    }
}
