using ArchUnitNET.Fluent.Slices;
using ArchUnitNET.Loader;
using ArchUnitNET.NUnit;
using Harness.ClusterAccess;
using NUnit.Framework;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace Harness.Tests.Architecture;

/// <summary>
/// The harness library's layers, bottom first; each may use only the layers before it, so no two namespaces depend
/// on each other. Data flows one way (DESIGN.md §3: profile → cluster → scenario steps → report).
/// </summary>
public class LayeringTests
{
    /// <summary>The layers, bottom first, and why each sits where it does.</summary>
    public static readonly (string Layer, string Why)[] Layers =
    [
        ("Harness.Text", "the secret redactor every layer writes through: a leaf, it uses nothing of the harness"),
        ("Harness.Waits", "the one wait vocabulary (Until, Stays, Poll), every timeout as a TimeSpan, watches with deadlines: they know no profile, node or check"),
        ("Harness.Profiles", "which cluster, how to log in, the commands and timeouts: read once, used everywhere"),
        ("Harness.Nodes", "node shells (INodeShell; SSH in NodeShell) and node discovery"),
        ("Harness.Kube", "Kubernetes objects and versions in kubectl's words, kubectl's output parsed, a check's waits on pods and nodes"),
        ("Harness.Faults", "faults and their reverts as data, the ledger, healing decisions (no cluster, no report)"),
        ("Harness.Diagnosis", "what is wrong and where to look: the control plane over SSH, node conditions, version skew"),
        ("Harness.ClusterAccess", "the connected cluster: API, kubectl, kubelets, reboots, namespaces, one reverter per kind"),
        ("Harness.Reporting", "Allure results, steps and attachments, metrics, the gate: only here are reports written"),
        ("Harness.Probes", "what the checks look at: curl from a node, node facts, evidence for a red check"),
        ("Harness.Safety", "preflight, steady state, component health, fault feasibility, the run's lease"),
        ("Harness.Checks", "a check's and a run's context: composes everything below"),
    ];

    private static readonly ArchUnitNET.Domain.Architecture Harness = new ArchLoader().LoadAssemblies(typeof(Cluster).Assembly).Build();

    /// <summary>A namespace and its sub-namespaces (Harness.Kube and Harness.Kube.Kubectl).</summary>
    private static string Pattern(string layer) => $"^{System.Text.RegularExpressions.Regex.Escape(layer)}(\\..*)?$";

    [Test]
    public void No_namespace_of_the_harness_depends_on_one_that_depends_on_it() =>
        SliceRuleDefinition.Slices().Matching("Harness.(**)").Should().BeFreeOfCycles().Check(Harness);

    [TestCaseSource(nameof(LayerNames))]
    public void A_layer_uses_only_the_layers_below_it(string layer)
    {
        var above = Layers.SkipWhile(l => l.Layer != layer).Skip(1).Select(l => Pattern(l.Layer)).ToArray();
        if (above.Length == 0)
        {
            Assert.That(layer, Is.EqualTo(Layers[^1].Layer), "only the top layer has nothing above it");
            return;
        }
        Types().That().ResideInNamespaceMatching(Pattern(layer))
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching(string.Join("|", above)))
            .Because($"{layer} is below {string.Join(", ", Layers.SkipWhile(l => l.Layer != layer).Skip(1).Select(l => l.Layer))}")
            .Check(Harness);
    }

    private static IEnumerable<string> LayerNames() => Layers.Select(l => l.Layer);

    [Test]
    public void Every_namespace_of_the_harness_is_in_a_layer()
    {
        var namespaces = Harness.Types.Where(t => t.Assembly.FullName == typeof(Cluster).Assembly.FullName)
            .Select(t => t.Namespace.FullName).Where(n => n.StartsWith("Harness", StringComparison.Ordinal)).Distinct();
        Assert.That(namespaces.Where(n => !Layers.Any(l => System.Text.RegularExpressions.Regex.IsMatch(n, Pattern(l.Layer)))), Is.Empty,
            "a new namespace gets its place in Layers");
    }

    [Test]
    public void The_harness_library_does_not_reference_nunit() =>
        Assert.That(typeof(Cluster).Assembly.GetReferencedAssemblies().Select(a => a.Name),
            Has.None.StartsWith("nunit").IgnoreCase, "NUnit belongs to Harness.NUnit and the test projects");
}
