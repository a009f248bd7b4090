using Harness.Profiles;
using Harness.Reporting;

namespace VersionGate;

/// <summary>What the gate's commands share before they start: the repository, their options and the profile they name.</summary>
internal static class Repository
{
    /// <summary>
    /// Parses <paramref name="args"/> and loads the profile they name from the repository's fixtures/profiles.
    /// Bad input is one message with the usage on <paramref name="stderr"/>, and null.
    /// </summary>
    public static async Task<(T Options, ClusterProfile Profile, string Root)?> ParseAsync<T>(
        string[] args, Func<string[], T> parse, Func<T, string> profileName, string? repositoryRoot, TextWriter stderr, string command, string usage)
    {
        var root = repositoryRoot ?? AllureResults.RepositoryRoot() ?? AllureResults.RepositoryRoot(Directory.GetCurrentDirectory());
        try
        {
            var options = parse(args);
            if (root is null) throw new ArgumentException("cannot find the repository (no Verification.sln above this program or the current folder)");
            return (options, ProfileLoader.Load(profileName(options), Path.Combine(root, "fixtures", "profiles")), root);
        }
        catch (Exception e) when (e is ArgumentException or ProfileException)
        {
            await stderr.WriteLineAsync($"{command}: {e.Message}\n{usage}");
            return null;
        }
    }
}
