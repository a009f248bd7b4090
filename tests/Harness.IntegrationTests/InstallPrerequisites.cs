using Harness.Reporting;
using Harness.IntegrationTests.Support;
using NUnit.Framework;

/// <summary>
/// Makes the README's <c>dotnet test Harness.Tests.slnf</c> (this project and the unit tests) work on a fresh machine
/// with no other step: before this project's first test, installs what <see cref="Prerequisites"/> finds missing (openssh-server and sudo when root; the pinned
/// Allure CLI). Outside any namespace, so NUnit runs it once for the whole assembly, however the tests are started
/// (dotnet test, dotnet vstest, an IDE, a --filter). If it fails, every test fails with its one message.
/// </summary>
[SetUpFixture]
public sealed class InstallPrerequisites
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(10);

    [OneTimeSetUp]
    public async Task InstallWhatIsMissing()
    {
        var root = AllureResults.RepositoryRoot()
            ?? throw new InvalidOperationException($"no Verification.sln above {AppContext.BaseDirectory}: cannot find tools/allure");
        // TestContext.Error, not Progress: dotnet test's default (minimal) console verbosity shows the error stream
        // as it is written and hides Progress lines; outside a test it is not repeated in any test's output either.
        var installer = new PrerequisiteInstaller(new CliWrapCommandRunner(), line => TestContext.Error.WriteLine($"harness tests: {line}"),
            isRoot: Environment.UserName == "root", PrerequisiteInstaller.DefaultLockPath, Deadline);
        await installer.EnsureAsync(Prerequisites.OfThisMachine(root));
    }
}
