using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;

namespace Harness.Tests.Waits;

/// <summary>
/// A stand-in for the API server on 127.0.0.1, answering each request as the test says, so the real KubernetesClient
/// (its watch parsing, its errors, its HTTP timeout) meets <see cref="Harness.Waits.Watches"/> without a cluster.
/// </summary>
internal sealed class LoopbackApiServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<HttpListenerRequest, int, CancellationToken, Task<Answer>> _answer;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private int _count;

    /// <summary>What to send back: a status and a body, or (for a watch) lines of watch events and then the end.</summary>
    public sealed record Answer(HttpStatusCode Status, string Body)
    {
        public static Answer Json(string body) => new(HttpStatusCode.OK, body);
        public static Answer WatchLines(params string[] lines) => new(HttpStatusCode.OK, string.Concat(lines.Select(l => l + "\n")));
    }

    /// <param name="answer">Gets the request and its number (from 1) and returns what to send.</param>
    public LoopbackApiServer(Func<HttpListenerRequest, int, CancellationToken, Task<Answer>> answer)
    {
        _answer = answer;
        var port = FreePort();
        Url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = ServeAsync();
    }

    public string Url { get; }

    /// <summary>Every request as "GET /api/v1/namespaces/test/pods?…", in arrival order.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public IKubernetes Client(TimeSpan? httpClientTimeout = null) => new Kubernetes(new KubernetesClientConfiguration
    {
        Host = Url,
        DisableHttp2 = true,
        HttpClientTimeout = httpClientTimeout ?? TimeSpan.FromSeconds(100),
    });

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; } // stopped
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            _requests.Enqueue($"{context.Request.HttpMethod} {context.Request.Url!.PathAndQuery}");
            var answer = await _answer(context.Request, Interlocked.Increment(ref _count), _stopping.Token);
            var body = Encoding.UTF8.GetBytes(answer.Body);
            context.Response.StatusCode = (int)answer.Status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body, _stopping.Token);
            context.Response.Close();
        }
        catch (Exception)
        {
            // The test is over or the client hung up: nothing left to answer.
            try { context.Response.Abort(); } catch (Exception) { }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Close();
        _stopping.Dispose();
    }
}
