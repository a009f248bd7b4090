using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using k8s;

namespace Harness.Waits;

/// <summary>
/// Makes a KubernetesClient watch throw what it would otherwise only report on the side.
/// </summary>
public static class WatchStream
{
    /// <summary>
    /// KubernetesClient 21 does not yield a watch's ERROR event: a line whose object is a <c>Status</c> (for example
    /// 410 "too old resource version") becomes a <see cref="KubernetesException"/> handed to <c>onError</c>, and so does
    /// a line it cannot parse; then it reads on (Watcher.cs, <c>CreateWatchEventEnumerator</c>). Without an
    /// <c>onError</c> the error is lost and the server closes the stream, so a watcher that simply re-watches from the
    /// same resourceVersion gets the same 410 again, in a tight loop, until its deadline.
    /// This wrapper passes an <c>onError</c> and throws the first error it received as soon as the stream moves on or
    /// ends, so the wait lists again.
    /// </summary>
    /// <param name="open">Opens the watch with the given onError, e.g.
    /// <c>onError =&gt; api.CoreV1.WatchListNodeAsync(resourceVersion: rv, onError: onError, cancellationToken: ct)</c>.</param>
    public static async IAsyncEnumerable<(WatchEventType, T)> ThrowingErrors<T>(
        Func<Action<Exception>, IAsyncEnumerable<(WatchEventType, T)>> open,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        Exception? reported = null;
        await foreach (var watchEvent in open(error => reported ??= error).WithCancellation(ct))
        {
            if (reported is not null) ExceptionDispatchInfo.Throw(reported);
            yield return watchEvent;
        }
        if (reported is not null) ExceptionDispatchInfo.Throw(reported);
    }
}
