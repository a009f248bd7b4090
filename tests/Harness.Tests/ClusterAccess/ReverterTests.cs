using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Nodes;
using NUnit.Framework;
using static Harness.Tests.ClusterAccess.LabProfile;

namespace Harness.Tests.ClusterAccess;

/// <summary>One reverter per revert kind, dispatched by kind; the node-side ones work on any <see cref="INodeShell"/>.</summary>
public class ReverterTests
{
    [Test]
    public void Every_revert_kind_has_its_rules_and_exactly_one_reverter()
    {
        var reverterKinds = typeof(IKindReverter).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IKindReverter).IsAssignableFrom(t))
            .Select(t => (RevertKind)t.GetProperty(nameof(IKindReverter.Kind))!.GetValue(
                System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(t))!)
            .ToList();

        Assert.Multiple(() =>
        {
            Assert.That(reverterKinds, Is.EquivalentTo(Enum.GetValues<RevertKind>()), "one reverter class per kind");
            Assert.That(RevertKinds.Known, Is.EquivalentTo(Enum.GetValues<RevertKind>()), "rules (words, API, ownership) per kind");
        });
    }

    private sealed class Recording(RevertKind kind) : IKindReverter
    {
        public RevertKind Kind => kind;
        public List<Revert> Reverted { get; } = [];

        public Task RevertAsync(Revert revert, CancellationToken ct)
        {
            Reverted.Add(revert);
            return Task.CompletedTask;
        }
    }

    [Test]
    public async Task A_revert_goes_to_the_reverter_of_its_kind_and_a_kind_without_one_is_refused_saying_why()
    {
        var uncordon = new Recording(RevertKind.Uncordon);
        var deleteNamespace = new Recording(RevertKind.DeleteNamespace);
        var dispatch = new RevertDispatch([uncordon, deleteNamespace], revert => $"'{revert}' needs the API");

        await dispatch.RevertAsync(Revert.UncordonNode("w3-k8s"), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => dispatch.RevertAsync(Revert.OnNode("w1-k8s", "systemctl start kubelet"), CancellationToken.None));

        Assert.That(uncordon.Reverted, Is.EqualTo(new[] { Revert.UncordonNode("w3-k8s") }));
        Assert.That(deleteNamespace.Reverted, Is.Empty);
        Assert.That(refused!.Message, Is.EqualTo("'on w1-k8s: systemctl start kubelet' needs the API"));
    }

    [Test]
    public async Task A_node_command_revert_runs_its_command_on_its_node_and_fails_when_the_command_does()
    {
        var w1 = new FakeNodeShell("w1-k8s");
        var w2 = new FakeNodeShell("w2-k8s") { Answer = _ => (1, "", "Failed to start kubelet.service: Unit not found.") };
        var nodes = new Dictionary<string, FakeNodeShell> { ["w1-k8s"] = w1, ["w2-k8s"] = w2 };
        var revert = new NodeCommandRevert(name => nodes[name], TimeSpan.FromSeconds(5));

        await revert.RevertAsync(Revert.OnNode("w1-k8s", "systemctl start kubelet"), CancellationToken.None);
        var failed = await Assert.ThrowsAsync<NodeCommandFailedException>(() => revert.RevertAsync(Revert.OnNode("w2-k8s", "systemctl start kubelet"), CancellationToken.None));

        Assert.That(w1.Commands, Is.EqualTo(new[] { "systemctl start kubelet" }));
        Assert.That(failed!.Message, Does.Contain("Unit not found"));
    }

    [Test]
    public async Task A_static_pod_restore_puts_the_manifest_back_then_asks_the_component_on_its_node_until_it_serves()
    {
        var apiServer = StaticPod.Of(Lab, "kube-apiserver");
        var answers = 0;
        var controlPlane = new FakeNodeShell("m-k8s")
        {
            // The health command fails twice (the container starting), then answers.
            Answer = command => command == apiServer.HealthCommand && ++answers < 3 ? (7, "", "connection refused") : (0, "ok", ""),
        };

        await new StaticPodRestore(_ => controlPlane, Lab, null).RevertAsync(apiServer.Restore, CancellationToken.None);

        Assert.That(controlPlane.Commands[0], Is.EqualTo(apiServer.StartCommand));
        Assert.That(controlPlane.Commands.Skip(1), Is.EqualTo(Enumerable.Repeat(apiServer.HealthCommand, 3)));
    }
}
