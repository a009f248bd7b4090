using System.Globalization;
using System.Text.RegularExpressions;
using Harness.Nodes;

namespace Harness.Probes;

/// <summary>What one curl from a node saw. <see cref="Error"/> is curl's own complaint, e.g. <c>curl: (28) Connection timed out after 5001 milliseconds</c>.</summary>
public sealed record CurlResult(CommandResult Command, int? StatusCode, string? Server, string Body, CurlError? Error = null)
{
    /// <summary>curl's error 28: the connection or the transfer timed out (its exit code, or its message where only the text is known).</summary>
    public bool TimedOut => Command.ExitCode == CurlError.TimedOut || Error?.Code == CurlError.TimedOut;
    public bool Answered => Command.Succeeded && StatusCode is not null;
    public override string ToString() => Command.ToString();
}

/// <summary>curl's error line on stderr (<c>--show-error</c>, or without <c>--silent</c>): <c>curl: (CODE) message</c>.</summary>
public sealed record CurlError(int Code, string Message)
{
    /// <summary>CURLE_OPERATION_TIMEDOUT: "Connection timed out after 5001 milliseconds", "Operation timed out after …".</summary>
    public const int TimedOut = 28;
}

/// <summary>HTTP probes as the book runs them: curl on a node (normally the control plane) to a pod IP.</summary>
public static partial class HttpProbe
{
    /// <param name="timeout">curl's own <c>{timeout}</c> in the template (<c>--connect-timeout</c>, <c>--max-time</c>), in seconds as curl reads it.</param>
    public static async Task<CurlResult> CurlAsync(INodeShell from, string curlTemplate, string ip, TimeSpan timeout, CancellationToken ct) =>
        Read(await from.RunAsync(Command(curlTemplate, ip, timeout), timeout + TimeSpan.FromSeconds(30), ct));

    /// <summary>The curl command the profile's template (<c>commands.curl</c>) makes for <paramref name="ip"/>: what runs, and what the report names.</summary>
    public static string Command(string curlTemplate, string ip, TimeSpan timeout) =>
        curlTemplate.Replace("{ip}", ip).Replace("{timeout}", timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture));

    /// <summary>Reads curl's transcript: the last status line and Server header of <c>-i</c> output, the body, curl's error.</summary>
    public static CurlResult Read(CommandResult result)
    {
        var status = StatusLine().Matches(result.Stdout).LastOrDefault();
        var server = ServerHeader().Match(result.Stdout);
        var body = result.Stdout.Contains("\r\n\r\n") ? result.Stdout[(result.Stdout.LastIndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..] : "";
        var error = ErrorLine().Match(result.Stderr);
        return new CurlResult(result,
            status is null ? null : int.Parse(status.Groups[1].Value),
            server.Success ? server.Groups[1].Value.Trim() : null,
            body,
            error.Success ? new CurlError(int.Parse(error.Groups[1].Value), error.Groups[2].Value.Trim()) : null);
    }

    [GeneratedRegex(@"^HTTP/[\d.]+ (\d{3})", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^Server:\s*(.+)$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex ServerHeader();

    [GeneratedRegex(@"^curl: \((\d+)\) (.*)$", RegexOptions.Multiline)]
    private static partial Regex ErrorLine();
}
