using Harness.ClusterAccess;
using NUnit.Framework;
using static Harness.Tests.ClusterAccess.LabProfile;

namespace Harness.Tests.ClusterAccess;

/// <summary>The book's kubectl on the control plane, seen through a fake control plane: what it runs there, and once.</summary>
public class KubectlSessionTests
{
    [Test]
    public async Task Kubectl_runs_in_the_namespaces_folder_with_its_context_and_reports_the_command_as_the_book_types_it()
    {
        var controlPlane = new FakeNodeShell("m-k8s");
        var kubectl = new KubectlSession(controlPlane, Lab);

        var first = await kubectl.RunAsync("get pods", "verification-a", CancellationToken.None);
        await kubectl.RunAsync("get nodes", "verification-a", CancellationToken.None);
        await kubectl.PutFileAsync("rollout-nginx.yaml", "kind: Deployment", "verification-b", CancellationToken.None);

        var folder = $"{kubectl.Folder}/verification-a";
        Assert.Multiple(() =>
        {
            Assert.That(first.Command, Is.EqualTo($"{Lab.Kubernetes.Kubectl} get pods"), "no --kubeconfig, no -n: as the book types it");
            Assert.That(controlPlane.Commands, Has.Count.EqualTo(4), "the context once per namespace, then one command each");
            Assert.That(controlPlane.Commands[0], Does.StartWith($"umask 077 && mkdir -p {folder} && "));
            Assert.That(controlPlane.Commands[0], Does.Contain("config set-context verification-a"));
            Assert.That(controlPlane.Commands[1], Is.EqualTo(
                $"cd {folder} && KUBECONFIG={folder}/context.conf:{Lab.Kubernetes.AdminKubeconfig} {Lab.Kubernetes.Kubectl} get pods"));
            Assert.That(controlPlane.Commands[3], Does.Contain("config set-context verification-b"), "a second namespace gets its own context");
        });
    }
}
