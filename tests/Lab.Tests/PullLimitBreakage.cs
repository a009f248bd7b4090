using System.Diagnostics;
using NUnit.Framework;

namespace Lab.Tests;

/// <summary>
/// Negative control of <see cref="BrokenClusterTests"/>: Docker Hub's pull limit reached on w1-k8s. The node pulls docker.io
/// through fixtures/lab/pull-limit/proxy.py with a limit of 0 (`lab pull-limit on w1-k8s 0`: every manifest GET gets
/// Docker Hub's 429 toomanyrequests, HEADs still resolve), and the preflight image is removed from its containerd so that
/// preflight's pod there has to pull (the book's pod says <c>imagePullPolicy: IfNotPresent</c>). Preflight must stop as soon
/// as the pod shows the limit, naming it, the image and the node, not wait out podReadySeconds.
/// In BrokenClusterTests.Breakages():
/// <c>new(PullLimitBreakage.Name, PullLimitBreakage.Names, t =&gt; PullLimitBreakage.BreakAsync(t.OnNodeAsync), _ =&gt; PullLimitBreakage.RestoreAsync(), PullLimitBreakage.Quotes),</c>
/// </summary>
public static class PullLimitBreakage
{
    public const string Node = "w1-k8s";
    public const string Name = "Docker Hub pull limit reached on " + Node;
    public const string Names = Node;

    /// <summary>ObjectState.PullLimitMessage's words, and the runtime's own status line from the proxy's answer.</summary>
    public static readonly string[] Quotes = ["pull limit: the registry refused image", "nginx", "429 Too Many Requests"];

    /// <summary>The image of preflight's probe pods (profile lab: images.nginx = nginx) as containerd names it.</summary>
    public const string PreflightImage = "docker.io/library/nginx:latest";

    public static async Task BreakAsync(Func<string, string, Task> onNode)
    {
        await LabAsync("pull-limit", "on", Node, "0");
        await onNode(Node, RemoveImage(PreflightImage));
    }

    public static Task RestoreAsync() => LabAsync("pull-limit", "off", Node);

    /// <summary>
    /// Removes an image from the node's containerd so the next pod start pulls it. Every name of the image goes (CRI keeps
    /// the tag, the repo digest and the image ID, all on one manifest), synchronously (<c>--sync</c>: garbage collection
    /// done before ctr returns): containerd fetches only what its content store lacks, so a manifest left behind would make
    /// the pull end after the HEAD, with no counted GET. Fails when the manifest is still there afterwards.
    /// </summary>
    public static string RemoveImage(string reference) =>
        $"d=$(ctr -n k8s.io images ls | awk '$1 == \"{reference}\" {{ print $3 }}'); " +
        "if [ -n \"$d\" ]; then " +
        "ctr -n k8s.io images rm --sync $(ctr -n k8s.io images ls | awk -v d=\"$d\" '$3 == d { print $1 }') >/dev/null && " +
        "! ctr -n k8s.io content ls -q | grep -qx \"$d\"; fi";

    /// <summary>fixtures/lab/lab of the checkout under test (as root, like the lab tests themselves).</summary>
    private static async Task LabAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(LiveRun.Root, "fixtures", "lab", "lab"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var lab = Process.Start(start)!;
        var stdout = lab.StandardOutput.ReadToEndAsync();
        var stderr = lab.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await lab.WaitForExitAsync(deadline.Token);
        var output = await stdout + await stderr;
        TestContext.Progress.WriteLine($"lab {string.Join(' ', args)}: {output.Trim()}");
        Assert.That(lab.ExitCode, Is.Zero, $"lab {string.Join(' ', args)}:\n{output}");
    }
}
