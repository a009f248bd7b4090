using System.Diagnostics;
using Harness.ClusterAccess;
using Harness.Profiles;
using NUnit.Framework;

namespace Lab.Tests;

/// <summary>
/// What every lab test shares: the live suite built once (child runs use --no-build, so they never race builds), a
/// connection of its own to the lab, and a work folder per test for the child runs' ledger, results and metrics —
/// kept for inspection when the test fails.
/// </summary>
public abstract class LabFixture
{
    protected Cluster Lab { get; private set; } = null!;
    protected string Work { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task BuildSuiteAndConnectAsync()
    {
        var build = Process.Start(new ProcessStartInfo("dotnet", ["build", "tests/Verification/Verification.csproj", "-v", "q", "-nologo"])
            { WorkingDirectory = LiveRun.Root })!;
        await build.WaitForExitAsync();
        Assert.That(build.ExitCode, Is.Zero, "the live suite must build");

        var profile = ProfileLoader.Load("lab", Path.Combine(LiveRun.Root, "fixtures", "profiles"));
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Lab = await Cluster.ConnectAsync(profile, TestContext.Progress.WriteLine, budget.Token);
    }

    [OneTimeTearDown]
    public async Task DisconnectAsync()
    {
        if (Lab is not null) await Lab.DisposeAsync();
    }

    [SetUp]
    public void MakeWorkFolder() => Work = Directory.CreateTempSubdirectory("lab-tests-").FullName;

    [TearDown]
    public void RemoveWorkFolder()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Passed)
            Directory.Delete(Work, recursive: true);
        else
            TestContext.Progress.WriteLine($"kept {Work} for inspection");
    }

    /// <summary>Run parameters of a child run named <paramref name="name"/>: the lab profile, its own ledger, results and metrics.</summary>
    protected Dictionary<string, string> RunParameters(string name, string ledger, string? metrics = null) => new()
    {
        ["profile"] = "lab",
        ["safety.ledgerFile"] = ledger,
        ["allureResults"] = Path.Combine(Work, name, "allure-results"),
        ["metrics"] = metrics ?? Path.Combine(Work, name, "metrics.jsonl"),
    };
}
