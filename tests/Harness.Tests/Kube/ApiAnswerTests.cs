using Harness.Kube.Kubectl;
using Harness.Nodes;
using NUnit.Framework;

namespace Harness.Tests.Kube;

/// <summary>
/// kubectl's words about an API that does not serve, as kubectl's StandardErrorMessage
/// (k8s.io/kubectl/pkg/cmd/util/helpers.go) writes them. The texts are kubectl's own, as printed by kubectl 1.20 (one
/// line) and by kubectl 1.26+ (klog lines from memcache.go first); the etcd ones as users of kubeadm clusters with
/// etcd down quote them.
/// </summary>
public class ApiAnswerTests
{
    private static CommandResult Failed(string stderr, int exit = 1) => new("m-k8s", "kubectl get nodes", exit, "", stderr, TimeSpan.Zero);

    [Test]
    public void The_api_server_away_is_a_refused_connection_naming_the_server()
    {
        var answer = ApiAnswer.Read(Failed("The connection to the server 192.168.1.10:6443 was refused - did you specify the right host or port?\n"));

        Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.Refused));
        Assert.That(answer.Server, Is.EqualTo("192.168.1.10:6443"));
        Assert.That(answer.MeansApiDown, Is.True);
    }

    [Test]
    public void Newer_kubectl_prints_klog_lines_first_and_its_verdict_last()
    {
        var answer = ApiAnswer.Read(Failed("""
            E1130 14:05:12.088151    7818 memcache.go:265] couldn't get current server API group list: Get "https://192.168.1.10:6443/api?timeout=32s": dial tcp 192.168.1.10:6443: connect: connection refused
            E1130 14:05:12.091585    7818 memcache.go:265] couldn't get current server API group list: Get "https://192.168.1.10:6443/api?timeout=32s": dial tcp 192.168.1.10:6443: connect: connection refused
            The connection to the server 192.168.1.10:6443 was refused - did you specify the right host or port?

            """));
        Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.Refused));
        Assert.That(answer.Line, Does.StartWith("The connection to the server 192.168.1.10:6443"));
    }

    [Test]
    public void A_worker_without_kubeconfig_is_refused_too_on_localhost_8080() =>
        Assert.That(ApiAnswer.Read(Failed("The connection to the server localhost:8080 was refused - did you specify the right host or port?")).Server,
            Is.EqualTo("localhost:8080"));

    [TestCase("Error from server: etcdserver: request timed out", "")]
    [TestCase("Error from server: context deadline exceeded", "")]
    [TestCase("Error from server (InternalError): an error on the server (\"\") has prevented the request from succeeding (get nodes)", "InternalError")]
    [TestCase("Error from server (Timeout): the server was unable to return a response in the time allotted, but may still be processing the request (get nodes)", "Timeout")]
    [TestCase("Error from server (ServiceUnavailable): the server is currently unable to handle the request (get nodes)", "ServiceUnavailable")]
    public void Etcd_away_reads_as_an_error_of_the_server(string stderr, string reason)
    {
        var answer = ApiAnswer.Read(Failed(stderr));
        Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.ServerError));
        Assert.That(answer.Reason, Is.EqualTo(reason));
        Assert.That(answer.MeansApiDown, Is.True);
    }

    [TestCase("Unable to connect to the server: net/http: TLS handshake timeout")]
    [TestCase("Unable to connect to the server: dial tcp 192.168.1.10:6443: i/o timeout")]
    [TestCase("Unable to connect to the server: EOF")]
    [TestCase("Unable to connect to the server: context deadline exceeded (Client.Timeout exceeded while awaiting headers)")]
    public void No_answer_at_the_network_level_is_unreachable(string stderr)
    {
        var answer = ApiAnswer.Read(Failed(stderr));
        Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.Unreachable));
        Assert.That(answer.MeansApiDown, Is.True);
    }

    [TestCase("Error from server (NotFound): pods \"nginx-pod\" not found")]
    [TestCase("Error from server (Forbidden): nodes is forbidden: User \"system:anonymous\" cannot list resource \"nodes\"")]
    [TestCase("error: You must be logged in to the server (Unauthorized)")]
    [TestCase("error: unknown command \"gett\" for \"kubectl\"")]
    public void Answers_about_the_request_are_not_an_api_that_is_down(string stderr)
    {
        var answer = ApiAnswer.Read(Failed(stderr));
        Assert.That(answer.Kind, Is.EqualTo(ApiAnswerKind.OtherFailure));
        Assert.That(answer.MeansApiDown, Is.False);
    }

    [Test]
    public void A_kubectl_that_succeeded_answered_whatever_it_printed()
    {
        var ok = new CommandResult("m-k8s", "kubectl get nodes", 0, "NAME     STATUS   ROLES    AGE   VERSION\nm-k8s    Ready    master   1d    v1.20.2\n",
            "Warning: something deprecated\n", TimeSpan.Zero);
        Assert.That(ApiAnswer.Read(ok).Kind, Is.EqualTo(ApiAnswerKind.Answered));
        Assert.That(ApiAnswer.Read(ok).MeansApiDown, Is.False);
    }
}
