using Harness.Kube.Kubectl;
using Harness.Nodes;
using Harness.Probes;
using Harness.Profiles;
using Harness.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Contract;

/// <summary>
/// The texts the book prints (Kubernetes 1.18.4, verbatim) and kubectl 1.20.2's and 1.36.0's wording (from their
/// source), fed to the code that reads kubectl's and curl's output in the live checks. See Contract/README.md.
/// </summary>
public class ContractTests
{
    private static readonly string Root =
        AllureResults.RepositoryRoot() ?? throw new InvalidOperationException("no Verification.sln above the test binaries");

    private static string Fixture(string path) => File.ReadAllText(Path.Combine(Root, "tests", "Harness.Tests", "Contract", path));

    private static ClusterProfile Profile(string name) => ProfileLoader.Load(name, Path.Combine(Root, "fixtures", "profiles"));

    private static readonly string[] BookDaemonSetPods = ["kube-system/calico-node-5n94z", "kube-system/kube-proxy-qx5tw"];
    private const string ApplyCause = "kubectl apply --filename=./rollout-nginx.yaml --record=true";
    private const string SetImage1160Cause = "kubectl set image deployment rollout-nginx nginx=nginx:1.16.0 --record=true";
    private const string SetImage11723Cause = "kubectl set image deployment rollout-nginx nginx=nginx:1.17.23 --record=true";

    // ---- S8 drain ----------------------------------------------------------------------------------------------

    [Test]
    public void Book_drain_refusal_names_the_DaemonSet_pods_and_the_flag()
    {
        var drain = DrainOutput.Parse("w3-k8s", Fixture("book-1.18/drain-refused.txt"));

        Assert.That(drain.Cordoned, Is.True, "node/w3-k8s cordoned: drain cordons before it refuses");
        Assert.That(drain.UnableToDrain, Is.True, "error: unable to drain node \"w3-k8s\"");
        Assert.That(drain.Refusals, Has.Count.EqualTo(1));
        Assert.That($"{drain.Refusals[0].What} (use {drain.Refusals[0].Flag} to ignore)", Is.EqualTo(DrainOutput.DaemonSetRefusal));
        Assert.That(drain.RefusedFor("--ignore-daemonsets"), Is.EqualTo(BookDaemonSetPods));
        Assert.That(drain.Evicting, Is.Empty, "nothing is evicted when drain refuses");
        Assert.That(drain.Drained, Is.False);
    }

    [Test]
    public void Book_drain_with_ignore_daemonsets_warns_and_evicts_the_workload()
    {
        var drain = DrainOutput.Parse("w3-k8s", Fixture("book-1.18/drain-ignore-daemonsets.txt"));

        Assert.That(drain.Cordoned, Is.True, "node/w3-k8s already cordoned");
        Assert.That(drain.UnableToDrain, Is.False);
        Assert.That(drain.Refusals, Is.Empty);
        Assert.That(drain.IgnoredDaemonSetPods, Is.EqualTo(BookDaemonSetPods));
        Assert.That(drain.Evicting, Is.EqualTo(new[] { "default/echo-hname-7894b67f-kgp6w" }));
        Assert.That(drain.Drained, Is.False, "the book cuts the output before node/w3-k8s drained");
    }

    [Test]
    public void Lab_kubectl_1_20_drain_refusal_reads_like_the_books()
    {
        var drain = DrainOutput.Parse("w3-k8s", Fixture("kubectl-1.20.2/drain-refused.txt"));

        Assert.That(drain.Cordoned && drain.UnableToDrain, Is.True);
        Assert.That(drain.RefusedFor("--ignore-daemonsets"), Is.EqualTo(new[] { "kube-system/kube-proxy-x8k2p" }));
    }

    [Test]
    public void Lab_kubectl_1_20_prints_several_refusals_as_bare_lines_and_names_the_lab_profiles_emptydir_flag()
    {
        var drain = DrainOutput.Parse("w3-k8s", Fixture("kubectl-1.20.2/drain-refused-daemonsets-and-emptydir.txt"));
        var flag = Profile("lab").Kubernetes.DrainEmptyDirFlag;

        Assert.That(drain.Refusals.Select(r => r.Flag), Is.EquivalentTo(new[] { "--ignore-daemonsets", flag }));
        Assert.That(drain.RefusedFor(flag), Is.EqualTo(new[] { "kube-system/metrics-scraper-6b4884c9d5-7hx2m" }));
        Assert.That(drain.Refusals.Single(r => r.Flag == flag).What, Is.EqualTo("Pods with local storage"));
    }

    [Test]
    public void Lab_kubectl_1_20_drain_ends_with_evicted_pods_and_the_node_evicted()
    {
        // As kubectl 1.20.2 printed it on the lab (stdout, then stderr): the node's last line says "evicted", not
        // "drained" — its drain command reuses one printer whose verb the pod evictions changed.
        var drain = DrainOutput.Parse("w3-k8s", Fixture("kubectl-1.20.2/drain-ignore-daemonsets.txt"));

        Assert.That(drain.IgnoredDaemonSetPods, Is.EqualTo(new[] { "kube-system/kube-proxy-qpn65" }));
        Assert.That(drain.Evicting, Has.Count.EqualTo(3).And.All.StartWith("verification/echo-hname-"));
        Assert.That(drain.Evicted, Is.EquivalentTo(drain.Evicting.Select(p => p.Split('/')[1])));
        Assert.That(drain.Drained, Is.True);
    }

    [Test]
    public void Newer_kubectl_drain_refusal_continues_instead_of_aborting_and_is_read_once()
    {
        var drain = DrainOutput.Parse("w3-k8s", Fixture("kubectl-1.36.0/drain-refused.txt"));

        Assert.That(drain.UnableToDrain, Is.True, "error: unable to drain node \"w3-k8s\" due to error: …");
        Assert.That(drain.Refusals, Has.Count.EqualTo(1), "the refusal quoted inside the 'due to error' line is not read twice");
        Assert.That(drain.RefusedFor("--ignore-daemonsets"), Is.EqualTo(new[] { "kube-system/calico-node-4xk2q", "kube-system/kube-proxy-x8k2p" }));
    }

    [Test]
    public void Newer_kubectl_drain_warning_is_spelled_Warning()
    {
        var drain = DrainOutput.Parse("w3-k8s", Fixture("kubectl-1.36.0/drain-ignore-daemonsets.txt"));

        Assert.That(drain.IgnoredDaemonSetPods, Has.Count.EqualTo(2));
        Assert.That(drain.Evicted, Is.EqualTo(new[] { "echo-hname-5d754d565-2xq9j" }));
        Assert.That(drain.Drained, Is.True);
    }

    // ---- S6/S7 scale, cordon -----------------------------------------------------------------------------------

    [TestCase("book-1.18/scale.txt", "deployment.apps", "echo-hname", "scaled")]
    [TestCase("book-1.18/cordon.txt", "node", "w3-k8s", "cordoned")]
    [TestCase("book-1.18/uncordon.txt", "node", "w3-k8s", "uncordoned")]
    [TestCase("book-1.18/drain-ignore-daemonsets.txt", "node", "w3-k8s", "already cordoned")]
    [TestCase("book-1.18/apply-record.txt", "deployment.apps", "rollout-nginx", "created")]
    [TestCase("book-1.18/set-image.txt", "deployment.apps", "rollout-nginx", "image updated")]
    [TestCase("book-1.18/rollout-undo.txt", "deployment.apps", "rollout-nginx", "rolled back")]
    [TestCase("book-1.18/rollout-undo-to-revision-1.txt", "deployment.apps", "rollout-nginx", "rolled back")]
    public void Book_says_what_kubectl_did_to_which_object(string fixture, string resource, string name, string verb) =>
        Assert.That(KubectlOutput.VerbsFor(Fixture(fixture), resource, name), Is.EqualTo(new[] { verb }));

    [Test]
    public void Book_get_nodes_shows_the_cordoned_worker_as_SchedulingDisabled()
    {
        var nodes = KubectlTable.Parse(Fixture("book-1.18/get-nodes-cordoned.txt"));

        Assert.That(nodes.Columns, Is.EqualTo(new[] { "NAME", "STATUS", "ROLES", "AGE", "VERSION" }));
        Assert.That(nodes.Cell("w3-k8s", "STATUS"), Is.EqualTo("Ready,SchedulingDisabled"));
        Assert.That(new[] { "m-k8s", "w1-k8s", "w2-k8s" }.Select(n => nodes.Cell(n, "STATUS")), Has.All.EqualTo("Ready"));
        Assert.That(nodes.Cell("w3-k8s", "VERSION"), Is.EqualTo("v1.18.4"));
    }

    // ---- S2 Terminating ----------------------------------------------------------------------------------------

    [Test]
    public void Book_get_pods_shows_the_pod_Terminating()
    {
        var pods = KubectlTable.Parse(Fixture("book-1.18/get-pods-terminating.txt"));

        Assert.That(pods.Cell("nginx-pod", "STATUS"), Is.EqualTo("Terminating"));
        Assert.That(pods.Cell("nginx-pod", "READY"), Is.EqualTo("1/1"));
    }

    [Test]
    public void Newer_kubectl_restarts_column_with_a_space_does_not_shift_the_status()
    {
        var pods = KubectlTable.Parse(Fixture("kubectl-1.36.0/get-pods-terminating.txt"));

        Assert.That(pods.Cell("nginx-pod", "STATUS"), Is.EqualTo("Terminating"));
        Assert.That(pods.Cell("nginx-pod", "RESTARTS"), Is.EqualTo("1 (75s ago)"));
        Assert.That(pods.Cell("nginx-pod", "AGE"), Is.EqualTo("2m32s"));
    }

    [Test]
    public void No_resources_found_is_an_empty_table()
    {
        var pods = KubectlTable.Parse(Fixture("kubectl-1.20.2/get-pods-no-resources.txt"));

        Assert.That(pods.Rows, Is.Empty);
        Assert.That(pods.Row("nginx-pod"), Is.Null);
    }

    // ---- S3 curl -----------------------------------------------------------------------------------------------

    private static CommandResult Curl(int exitCode, string stdout = "", string stderr = "") =>
        new("m-k8s", "curl --connect-timeout 5 172.16.103.129", exitCode, stdout, stderr, TimeSpan.FromSeconds(5));

    [Test]
    public void Book_curl_timeout_is_read_as_timed_out()
    {
        var curl = HttpProbe.Read(Curl(28, stderr: Fixture("book-1.18/curl-timeout.txt")));

        Assert.That(curl.TimedOut, Is.True);
        Assert.That(curl.Answered, Is.False);
        Assert.That(curl.Error, Is.EqualTo(new CurlError(28, "Connection timed out after 5001 milliseconds")));
    }

    [Test]
    public void Book_curl_timeout_text_alone_says_timed_out_whatever_the_exit_code_reads()
    {
        // e.g. a wrapper that lost curl's exit code: the message still carries curl's error number.
        Assert.That(HttpProbe.Read(Curl(1, stderr: Fixture("book-1.18/curl-timeout.txt"))).TimedOut, Is.True);
    }

    [Test]
    public void Book_server_header_shows_the_nginx_version()
    {
        var curl = HttpProbe.Read(Curl(0, stdout: Fixture("book-1.18/curl-server-header.txt")));

        Assert.That(curl.Server, Is.EqualTo("nginx/1.16.0"));
        Assert.That(curl.Error, Is.Null);
    }

    // ---- S9 rollout --------------------------------------------------------------------------------------------

    [Test]
    public void Book_rollout_status_successfully_rolled_out()
    {
        var status = RolloutStatusOutput.Parse("rollout-nginx", Fixture("book-1.18/rollout-status-complete.txt"));

        Assert.That(status.Verdict, Is.EqualTo(RolloutVerdict.Complete));
        Assert.That(status.Error, Is.Null);
    }

    [Test]
    public void Book_rollout_status_still_waiting_has_no_verdict()
    {
        var status = RolloutStatusOutput.Parse("rollout-nginx", Fixture("book-1.18/rollout-status-waiting.txt"));

        Assert.That(status.Verdict, Is.EqualTo(RolloutVerdict.Unfinished));
        Assert.That(status.Waiting, Is.EqualTo(new[]
            { "Waiting for deployment \"rollout-nginx\" rollout to finish: 1 out of 3 new replicas have been updated..." }));
    }

    [Test]
    public void Book_rollout_status_exceeded_its_progress_deadline()
    {
        var status = RolloutStatusOutput.Parse("rollout-nginx", Fixture("book-1.18/rollout-status-exceeded.txt"));

        Assert.That(status.Verdict, Is.EqualTo(RolloutVerdict.ProgressDeadlineExceeded));
        Assert.That(status.Error, Is.EqualTo("deployment \"rollout-nginx\" exceeded its progress deadline"));
    }

    [Test]
    public void Lab_kubectl_1_20_rollout_status_waits_then_exceeds_the_deadline_in_one_run()
    {
        var status = RolloutStatusOutput.Parse("rollout-nginx", Fixture("kubectl-1.20.2/rollout-status-exceeded.txt"));

        Assert.That(status.Verdict, Is.EqualTo(RolloutVerdict.ProgressDeadlineExceeded));
        Assert.That(status.Waiting, Has.Count.EqualTo(1));
    }

    [Test]
    public void Kubectls_own_timeout_is_not_the_deployments_verdict()
    {
        var status = RolloutStatusOutput.Parse("rollout-nginx", Fixture("kubectl-1.20.2/rollout-status-timed-out.txt"));

        Assert.That(status.Verdict, Is.EqualTo(RolloutVerdict.TimedOut));
    }

    private static IEnumerable<TestCaseData> BookHistories()
    {
        yield return new TestCaseData("book-1.18/rollout-history-1.txt", new[] { new RolloutRevision(1, ApplyCause) })
            .SetName("Book_rollout_history_after_apply_is_revision_1");
        yield return new TestCaseData("book-1.18/rollout-history-1-2.txt",
                new[] { new RolloutRevision(1, ApplyCause), new RolloutRevision(2, SetImage1160Cause) })
            .SetName("Book_rollout_history_after_set_image_is_revisions_1_2");
        yield return new TestCaseData("book-1.18/rollout-history-1-2-3.txt",
                new[] { new RolloutRevision(1, ApplyCause), new RolloutRevision(2, SetImage1160Cause), new RolloutRevision(3, SetImage11723Cause) })
            .SetName("Book_rollout_history_after_the_missing_tag_is_revisions_1_2_3");
        yield return new TestCaseData("book-1.18/rollout-history-1-3-4.txt",
                new[] { new RolloutRevision(1, ApplyCause), new RolloutRevision(3, SetImage11723Cause), new RolloutRevision(4, SetImage1160Cause) })
            .SetName("Book_rollout_history_after_undo_is_revisions_1_3_4_with_2s_cause_as_4");
    }

    [TestCaseSource(nameof(BookHistories))]
    public void Book_rollout_history(string fixture, RolloutRevision[] expected) =>
        Assert.That(RolloutHistoryOutput.Parse(Fixture(fixture)), Is.EqualTo(expected));
}
