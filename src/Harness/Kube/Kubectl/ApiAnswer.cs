using System.Text.RegularExpressions;
using Harness.Nodes;

namespace Harness.Kube.Kubectl;

/// <summary>How kubectl says the API answered (or did not), from its last error line.</summary>
public enum ApiAnswerKind
{
    /// <summary>kubectl exited 0: the API served the request.</summary>
    Answered,

    /// <summary><c>The connection to the server HOST:PORT was refused - did you specify the right host or port?</c>:
    /// nothing listens on the API's port (the API server is not running).</summary>
    Refused,

    /// <summary><c>Unable to connect to the server: …</c>: no answer at the network level (timeout, TLS handshake, EOF).</summary>
    Unreachable,

    /// <summary><c>Error from server (REASON): …</c> or <c>Error from server: …</c>: the API server answered with a failure of
    /// its own (see <see cref="ApiAnswer.IsServerSideFailure"/>), e.g. <c>etcdserver: request timed out</c>.</summary>
    ServerError,

    /// <summary>kubectl failed in a way none of the above describes (a typo, no permission, NotFound, …).</summary>
    OtherFailure,
}

/// <summary>
/// What kubectl's failure says about the API, read from its own words. kubectl writes them in
/// <c>StandardErrorMessage</c> (k8s.io/kubectl/pkg/cmd/util/helpers.go, the same in 1.18 to 1.36): a connection
/// refused becomes "The connection to the server %s was refused - did you specify the right host or port?", any other
/// connection error "Unable to connect to the server: %v", an API status "Error from server (%s): %s" with its reason,
/// or "Error from server: %s" without one. Newer kubectl (1.26+) prints klog lines before that last line
/// (<c>E1130 … memcache.go:265] couldn't get current server API group list: … connection refused</c>), so the last
/// line that matches counts.
/// </summary>
/// <param name="Line">The line the verdict was read from (null when kubectl succeeded or said nothing known).</param>
/// <param name="Server">For <see cref="ApiAnswerKind.Refused"/>: the server kubectl named (e.g. <c>192.168.1.10:6443</c>).</param>
/// <param name="Reason">For <see cref="ApiAnswerKind.ServerError"/>: the status reason in brackets, empty when there is none.</param>
public sealed partial record ApiAnswer(ApiAnswerKind Kind, string? Line, string? Server = null, string? Reason = null)
{
    /// <summary>
    /// API status reasons that mean the server could not do its work (its storage, etcd, or itself), as opposed to an
    /// answer about the request (NotFound, Forbidden, …). Empty: an error without a reason, as etcd's own errors
    /// (<c>Error from server: etcdserver: request timed out</c>, <c>… context deadline exceeded</c>) are passed on.
    /// </summary>
    public static readonly IReadOnlySet<string> ServerSideReasons = new HashSet<string>
    {
        "", "InternalError", "Timeout", "ServerTimeout", "ServiceUnavailable", "TooManyRequests",
    };

    public bool IsServerSideFailure => Kind == ApiAnswerKind.ServerError;

    /// <summary>The API cannot serve: refused, unreachable, or failing on the server's side.</summary>
    public bool MeansApiDown => Kind is ApiAnswerKind.Refused or ApiAnswerKind.Unreachable or ApiAnswerKind.ServerError;

    [GeneratedRegex(@"^The connection to the server (?<server>\S+) was refused - did you specify the right host or port\?$")]
    private static partial Regex RefusedLine();

    [GeneratedRegex(@"^Unable to connect to the server: (?<why>.+)$")]
    private static partial Regex UnreachableLine();

    [GeneratedRegex(@"^Error from server(?: \((?<reason>[A-Za-z]+)\))?: (?<message>.+)$")]
    private static partial Regex ServerErrorLine();

    /// <summary>Reads a kubectl command's result: its exit code, then its stderr (and stdout) from the last line up.</summary>
    public static ApiAnswer Read(CommandResult result) =>
        result.Succeeded ? new(ApiAnswerKind.Answered, null) : Read(KubectlOutput.Text(result));

    /// <summary>Reads the words of a failed kubectl (its transcript).</summary>
    public static ApiAnswer Read(string failedOutput)
    {
        foreach (var line in KubectlOutput.Lines(failedOutput).Select(l => l.Trim()).Reverse())
        {
            if (RefusedLine().Match(line) is { Success: true } refused)
                return new(ApiAnswerKind.Refused, line, Server: refused.Groups["server"].Value);
            if (UnreachableLine().IsMatch(line)) return new(ApiAnswerKind.Unreachable, line);
            if (ServerErrorLine().Match(line) is { Success: true } error)
            {
                var reason = error.Groups["reason"].Value;
                return new(ServerSideReasons.Contains(reason) ? ApiAnswerKind.ServerError : ApiAnswerKind.OtherFailure, line, Reason: reason);
            }
        }
        return new(ApiAnswerKind.OtherFailure, null);
    }

    public override string ToString() => Line is null ? Kind.ToString() : $"{Kind}: {Line}";
}
