using Harness.Kube.Kubectl;
using Harness.Nodes;
using NUnit.Framework;

namespace Harness.Tests.Kube;

/// <summary>The readers of kubectl's output, beyond the book's texts (Contract/ holds those).</summary>
public class KubectlOutputTests
{
    [Test]
    public void A_transcript_is_stdout_then_stderr_as_a_terminal_shows_them()
    {
        var result = new CommandResult("m-k8s", "kubectl drain w3-k8s", 1, "node/w3-k8s cordoned", "error: unable to drain node \"w3-k8s\", aborting command...\n", TimeSpan.Zero);

        Assert.That(KubectlOutput.Text(result), Is.EqualTo("node/w3-k8s cordoned\nerror: unable to drain node \"w3-k8s\", aborting command...\n"));
    }

    [Test]
    public void Pod_lists_and_history_headers_are_not_actions()
    {
        var text = "deployment.apps/rollout-nginx \nkube-system/calico-node-5n94z, kube-system/kube-proxy-qx5tw\nevicting pod default/x\npod/x evicted\n";

        Assert.That(KubectlOutput.Actions(text), Is.EqualTo(new[] { new KubectlAction("pod", "x", "evicted") }));
    }

    [Test]
    public void A_revision_without_change_cause_reads_as_null()
    {
        var history = RolloutHistoryOutput.Parse("deployment.apps/rollout-nginx \nREVISION  CHANGE-CAUSE\n1         <none>\n2         kubectl annotate …\n");

        Assert.That(history, Is.EqualTo(new[] { new RolloutRevision(1, null), new RolloutRevision(2, "kubectl annotate …") }));
    }

    [Test]
    public void Rollout_history_without_a_table_says_what_kubectl_printed()
    {
        var e = Assert.Throws<FormatException>(() =>
            RolloutHistoryOutput.Parse("Error from server (NotFound): deployments.apps \"rollout-nginx\" not found\n"))!;

        Assert.That(e.Message, Does.Contain("deployments.apps \"rollout-nginx\" not found"));
    }

    [Test]
    public void A_wide_table_keeps_headers_with_spaces_together()
    {
        var table = KubectlTable.Parse("""
            NAME        READY   STATUS    RESTARTS   AGE   IP               NODE     NOMINATED NODE   READINESS GATES
            nginx-pod   1/1     Running   0          30m   172.16.103.129   w2-k8s   <none>           <none>
            """);

        Assert.That(table.Columns, Does.Contain("NOMINATED NODE").And.Contain("READINESS GATES"));
        Assert.That(table.Cell("nginx-pod", "NODE"), Is.EqualTo("w2-k8s"));
        Assert.That(table.Cell("nginx-pod", "READINESS GATES"), Is.EqualTo("<none>"));
    }

    [Test]
    public void The_books_custom_columns_are_read_by_their_headers()
    {
        var table = KubectlTable.Parse("""
            NAME                        IP               STATUS    NODE
            echo-hname-7894b67f-kthpm   <none>           Pending   w2-k8s
            echo-hname-7894b67f-mgfp9   172.16.221.133   Running   w1-k8s
            """);

        Assert.That(table.Rows.Select(r => r["NODE"]), Is.EqualTo(new[] { "w2-k8s", "w1-k8s" }));
        Assert.That(table.Cell("echo-hname-7894b67f-kthpm", "STATUS"), Is.EqualTo("Pending"));
    }

    [Test]
    public void Repeated_waiting_lines_are_read_once()
    {
        var status = RolloutStatusOutput.Parse("rollout-nginx",
            "Waiting for deployment \"rollout-nginx\" rollout to finish: 1 of 3 updated replicas are available...\n" +
            "Waiting for deployment \"rollout-nginx\" rollout to finish: 1 of 3 updated replicas are available...\n" +
            "Waiting for deployment \"rollout-nginx\" rollout to finish: 2 of 3 updated replicas are available...\n" +
            "deployment \"rollout-nginx\" successfully rolled out\n");

        Assert.That(status.Verdict, Is.EqualTo(RolloutVerdict.Complete));
        Assert.That(status.Waiting, Has.Count.EqualTo(2));
    }

    [Test]
    public void Another_deployments_verdict_is_not_this_ones()
    {
        var status = RolloutStatusOutput.Parse("rollout-nginx", "deployment \"echo-hname\" successfully rolled out\n");

        Assert.That(status.Verdict, Is.EqualTo(RolloutVerdict.Unfinished));
    }
}
