using System.Text.RegularExpressions;
using Harness.Nodes;

namespace Harness.Kube.Kubectl;

/// <summary>One "what kubectl did" line: <c>node/w3-k8s cordoned</c>, <c>deployment.apps/rollout-nginx image updated</c>.</summary>
public sealed record KubectlAction(string Resource, string Name, string Verb)
{
    public override string ToString() => $"{Resource}/{Name} {Verb}";
}

/// <summary>
/// Reads what kubectl prints. kubectl writes its results to stdout and its errors and warnings to stderr; a transcript
/// (the book's, or <see cref="CommandResult"/>'s stdout followed by stderr) is read line by line, in any order.
/// </summary>
public static partial class KubectlOutput
{
    /// <summary>stdout, then stderr: what a terminal shows, in the order that matters for reading it.</summary>
    public static string Text(CommandResult result) =>
        result.Stdout.Length == 0 || result.Stdout.EndsWith('\n') ? result.Stdout + result.Stderr : result.Stdout + "\n" + result.Stderr;

    public static IReadOnlyList<string> Lines(string text) =>
        text.Replace("\r\n", "\n").Split('\n').Select(line => line.TrimEnd()).ToList();

    /// <summary>
    /// The "resource/name verb" lines kubectl's name printer writes (<c>deployment.apps/echo-hname scaled</c>,
    /// <c>node/w3-k8s already cordoned</c>, <c>deployment.apps/rollout-nginx rolled back</c>).
    /// </summary>
    public static IReadOnlyList<KubectlAction> Actions(string text) =>
        Lines(text).Select(line => ActionLine().Match(line)).Where(m => m.Success)
            .Select(m => new KubectlAction(m.Groups["resource"].Value, m.Groups["name"].Value, m.Groups["verb"].Value))
            .ToList();

    /// <summary>What kubectl said it did to <paramref name="resource"/>/<paramref name="name"/>, e.g. ["cordoned"].</summary>
    public static IReadOnlyList<string> VerbsFor(string text, string resource, string name) =>
        Actions(text).Where(a => a.Resource == resource && a.Name == name).Select(a => a.Verb).ToList();

    /// <summary>The <c>error: …</c> lines (kubectl's own errors; a Go aggregate of several prints them without the prefix).</summary>
    public static IReadOnlyList<string> Errors(string text) =>
        Lines(text).Where(line => line.StartsWith("error: ", StringComparison.Ordinal)).Select(line => line["error: ".Length..]).ToList();

    // A resource is lower case with optional API group (deployment.apps); names are DNS labels/subdomains.
    [GeneratedRegex(@"^(?<resource>[a-z][a-z0-9]*(?:\.[a-z0-9.-]+)?)/(?<name>[a-z0-9][a-z0-9.-]*) (?<verb>[a-z].*)$")]
    private static partial Regex ActionLine();
}
