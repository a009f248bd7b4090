using System.Text.RegularExpressions;
using Harness.Nodes;

namespace Harness.Probes;

/// <summary>What one curl from a node saw.</summary>
public sealed record CurlResult(CommandResult Command, int? StatusCode, string? Server, string Body)
{
    /// <summary>curl's exit code 28: the connection or the transfer timed out.</summary>
    public bool TimedOut => Command.ExitCode == 28;
    public bool Answered => Command.Succeeded && StatusCode is not null;
    public override string ToString() => Command.ToString();
}

/// <summary>HTTP probes as the book runs them: curl on a node (normally the control plane) to a pod IP.</summary>
public static partial class HttpProbe
{
    public static async Task<CurlResult> CurlAsync(NodeShell from, string curlTemplate, string ip, int timeoutSeconds, CancellationToken ct)
    {
        var command = curlTemplate.Replace("{ip}", ip).Replace("{timeout}", timeoutSeconds.ToString());
        var result = await from.RunAsync(command, TimeSpan.FromSeconds(timeoutSeconds + 30), ct);
        var status = StatusLine().Matches(result.Stdout).LastOrDefault();
        var server = ServerHeader().Match(result.Stdout);
        var body = result.Stdout.Contains("\r\n\r\n") ? result.Stdout[(result.Stdout.LastIndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..] : "";
        return new CurlResult(result,
            status is null ? null : int.Parse(status.Groups[1].Value),
            server.Success ? server.Groups[1].Value.Trim() : null,
            body);
    }

    [GeneratedRegex(@"^HTTP/[\d.]+ (\d{3})", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^Server:\s*(.+)$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex ServerHeader();
}
