using System.Net;
using System.Text.Json;
using Harness.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Harness.Waits;

/// <summary>
/// Sorts what the API throws at a wait into "try again" and "give up". A wait on the cluster spans faults that
/// shake the API (a restarted kubelet, a rebooted node, a busy etcd), so a hiccup must not end it; a refusal
/// (bad selector, no permission, no such resource) will not go away by waiting and ends it at once.
/// </summary>
internal static class ApiErrors
{
    /// <summary>
    /// True when waiting and asking again may help: the connection broke, the server was busy or failing (429, 5xx),
    /// the HTTP client gave up on its own timeout (not ours), or the watch has to start over (410 Gone, an ERROR event,
    /// a stream that ended at once).
    /// </summary>
    /// <param name="ourToken">The wait's own token: when it is cancelled the error is ours (deadline or caller), not the API's.</param>
    public static bool IsTransient(Exception error, CancellationToken ourToken) => error switch
    {
        // KubernetesClient cancels a request after its HttpClientTimeout with a token of its own.
        OperationCanceledException => !ourToken.IsCancellationRequested,
        HttpRequestException or IOException or JsonException => true,
        HttpOperationException http => http.Response is null || IsTransientStatus((int)http.Response.StatusCode),
        KubernetesException status => status.Status?.Code is not { } code || IsTransientStatus(code),
        WatchRestartException => true,
        _ => false,
    };

    // 410: the resourceVersion we watch from is too old; list again. 408/429/5xx: the server is busy or failing.
    private static bool IsTransientStatus(int code) => code is 410 or 408 or 429 or >= 500;

    /// <summary>One redacted line naming the error as the API gave it, e.g. "HTTP 503 ServiceUnavailable: etcdserver: request timed out".</summary>
    public static string Describe(Exception error) => Secrets.Redact(error switch
    {
        HttpOperationException { Response: { } response } =>
            $"HTTP {(int)response.StatusCode} {response.StatusCode}{StatusMessage(response.Content)}",
        KubernetesException { Status: { } status } =>
            $"watch ERROR event {status.Code} {status.Reason}: {status.Message}",
        OperationCanceledException => "no answer within the Kubernetes client's HTTP timeout",
        WatchRestartException => error.Message,
        _ => $"{error.GetType().Name}: {error.Message}",
    });

    // The API answers an error with a Status object; its message is the part a person needs.
    private static string StatusMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return "";
        try
        {
            if (KubernetesJson.Deserialize<V1Status>(body) is { Message: { Length: > 0 } message }) return ": " + message;
        }
        catch (JsonException) { }
        return ": " + (body.Length > 200 ? body[..200] + "…" : body);
    }

    /// <summary>
    /// The error to end a wait with when the API refused it: the same exception type (callers filter on
    /// <see cref="HttpOperationException"/> and its status code, e.g. 404 for a namespace already gone), with a message
    /// that says what was being watched and why waiting longer would not help.
    /// </summary>
    public static Exception Refused(Exception error, string what, string awaited)
    {
        var message = $"Watching {what} for {awaited} failed: the API refused it ({Describe(error)}); waiting longer would not help.";
        return error switch
        {
            HttpOperationException http => new HttpOperationException(message, http)
                { Request = http.Request, Response = http.Response, Body = http.Body },
            _ => new InvalidOperationException(message, error),
        };
    }
}

/// <summary>The watch must start over (list, then watch again) for a reason that is not an exception of the client's own.</summary>
internal sealed class WatchRestartException(string message) : Exception(message);
