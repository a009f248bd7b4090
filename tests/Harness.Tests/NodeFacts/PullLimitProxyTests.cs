using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Harness.Reporting;
using NUnit.Framework;

namespace Harness.Tests.NodeFacts;

/// <summary>
/// fixtures/lab/pull-limit/proxy.py, the lab's stand-in for Docker Hub at its pull limit, started on 127.0.0.1 in front of
/// a fake registry on loopback: it counts manifest GETs per client as Docker Hub does and refuses the one past the limit
/// with Docker Hub's 429 and body; HEADs and blobs are never counted and always pass; a blob comes through whole.
/// </summary>
[NonParallelizable]
public class PullLimitProxyTests
{
    private const string DockerHubBody =
        """{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]}""";

    private static readonly string Script = Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "lab", "pull-limit", "proxy.py");
    private static readonly byte[] Manifest = """{"schemaVersion":2}"""u8.ToArray();
    private static readonly byte[] Blob = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);

    private HttpListener _upstream = null!;
    private string _upstreamUrl = null!;
    private Process _proxy = null!;
    private readonly List<string> _proxyLog = [];
    private HttpClient _client = null!;
    private string _proxyUrl = null!;

    [SetUp]
    public async Task StartUpstreamAndProxyAsync()
    {
        _upstreamUrl = $"http://127.0.0.1:{FreePort()}/";
        _upstream = new HttpListener();
        _upstream.Prefixes.Add(_upstreamUrl);
        _upstream.Start();
        _ = ServeAsync(_upstream);

        var port = FreePort();
        _proxyUrl = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Script, "--listen", $"127.0.0.1:{port}", "--upstream", _upstreamUrl.TrimEnd('/'), "--limit", "2" })
            start.ArgumentList.Add(arg);
        _proxy = Process.Start(start)!;
        var listening = new TaskCompletionSource();
        _proxy.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_proxyLog) _proxyLog.Add(e.Data);
            if (e.Data.StartsWith("listening on ", StringComparison.Ordinal)) listening.TrySetResult();
        };
        _proxy.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_proxyLog) _proxyLog.Add(e.Data); };
        _proxy.BeginOutputReadLine();
        _proxy.BeginErrorReadLine();
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(20));
        _client = new HttpClient { BaseAddress = new Uri(_proxyUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    [TearDown]
    public void Stop()
    {
        _client?.Dispose();
        if (_proxy is { HasExited: false }) _proxy.Kill();
        _proxy?.WaitForExit(5000);
        _proxy?.Dispose();
        _upstream?.Close();
        lock (_proxyLog) TestContext.Out.WriteLine(string.Join("\n", _proxyLog));
    }

    // A registry's answers: a manifest for any /manifests/ path (HEAD: headers only), an 8 MiB blob for /blobs/.
    private static async Task ServeAsync(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(async () =>
            {
                try
                {
                    var path = context.Request.Url!.AbsolutePath;
                    var body = path.Contains("/manifests/") ? Manifest : path.Contains("/blobs/") ? Blob : "{}"u8.ToArray();
                    context.Response.ContentType = path.Contains("/manifests/") ? "application/vnd.oci.image.manifest.v1+json" : "application/octet-stream";
                    context.Response.AddHeader("Docker-Content-Digest", "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body)));
                    context.Response.ContentLength64 = body.Length;
                    if (context.Request.HttpMethod != "HEAD") await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
                catch (Exception) { try { context.Response.Abort(); } catch (Exception) { } }
            });
        }
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path) => _client.SendAsync(new HttpRequestMessage(method, path));

    [Test]
    public async Task The_manifest_get_past_the_limit_gets_docker_hubs_429_while_heads_and_blobs_always_pass()
    {
        for (var i = 1; i <= 2; i++)
        {
            using var get = await SendAsync(HttpMethod.Get, $"/v2/library/nginx/manifests/{(i == 1 ? "latest" : "sha256:" + new string('a', 64))}?ns=docker.io");
            Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"manifest GET {i} of 2 passes");
            Assert.That(await get.Content.ReadAsByteArrayAsync(), Is.EqualTo(Manifest));
            Assert.That(get.Headers.GetValues("ratelimit-remaining").Single(), Is.EqualTo($"{2 - i};w=3600"));
        }
        for (var i = 0; i < 5; i++)
        {
            using var head = await SendAsync(HttpMethod.Head, "/v2/library/nginx/manifests/latest");
            Assert.That(head.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a HEAD is never counted");
            Assert.That(head.Headers.GetValues("Docker-Content-Digest").Single(), Does.StartWith("sha256:"), "and resolves the tag as the registry does");
        }

        using var refused = await SendAsync(HttpMethod.Get, "/v2/sysnet4admin/echo-hname/manifests/latest");
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "the third manifest GET, whatever the image");
        Assert.That(refused.ReasonPhrase, Is.EqualTo("Too Many Requests"));
        Assert.That(refused.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/json"));
        Assert.That(await refused.Content.ReadAsStringAsync(), Is.EqualTo(DockerHubBody));
        Assert.That(refused.Headers.GetValues("ratelimit-limit").Single(), Is.EqualTo("2;w=3600"));
        Assert.That(refused.Headers.GetValues("ratelimit-remaining").Single(), Is.EqualTo("0;w=3600"));

        using var head2 = await SendAsync(HttpMethod.Head, "/v2/library/nginx/manifests/latest");
        Assert.That(head2.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a HEAD still passes at the limit");
        using var blob = await SendAsync(HttpMethod.Get, "/v2/library/nginx/blobs/sha256:" + new string('b', 64));
        Assert.That(blob.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a blob is no pull");
        Assert.That(await blob.Content.ReadAsByteArrayAsync(), Is.EqualTo(Blob), "the blob comes through whole");
        using var again = await SendAsync(HttpMethod.Get, "/v2/library/nginx/manifests/latest");
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "a refused GET does not free a pull");

        lock (_proxyLog)
        {
            Assert.That(_proxyLog, Has.Some.Match(@"client=127\.0\.0\.1 GET /v2/library/nginx/manifests/latest\?ns=docker\.io counted=1/2 status=200"));
            Assert.That(_proxyLog, Has.Some.Match(@"client=127\.0\.0\.1 HEAD /v2/library/nginx/manifests/latest not-counted status=200"));
            Assert.That(_proxyLog, Has.Some.Match(@"client=127\.0\.0\.1 GET /v2/sysnet4admin/echo-hname/manifests/latest refused \(limit 2 per 3600 s\) status=429"));
            Assert.That(_proxyLog, Has.Some.Match(@"GET /v2/library/nginx/blobs/sha256:b+ not-counted status=200 bytes=8388608"));
        }
    }

    [Test]
    public async Task With_a_limit_of_zero_every_manifest_get_is_refused_and_a_head_still_resolves()
    {
        // the lab's negative control: `lab pull-limit on w1-k8s 0`
        _client.Dispose();
        if (!_proxy.HasExited) _proxy.Kill();
        await _proxy.WaitForExitAsync();
        var port = FreePort();
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true };
        foreach (var arg in new[] { Script, "--listen", $"127.0.0.1:{port}", "--upstream", _upstreamUrl.TrimEnd('/'), "--limit", "0" })
            start.ArgumentList.Add(arg);
        _proxy = Process.Start(start)!;
        Assert.That(await _proxy.StandardOutput.ReadLineAsync(), Does.StartWith($"listening on 127.0.0.1:{port} -> {_upstreamUrl.TrimEnd('/')}; limit 0 "));
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

        using var head = await SendAsync(HttpMethod.Head, "/v2/library/nginx/manifests/latest");
        using var get = await SendAsync(HttpMethod.Get, "/v2/library/nginx/manifests/latest");

        Assert.That(head.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(await get.Content.ReadAsStringAsync(), Is.EqualTo(DockerHubBody));
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
