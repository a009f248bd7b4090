using System.Net;
using Harness.Diagnosis;
using Harness.Kube;
using Harness.Reporting;
using Harness.Safety;
using Harness.Tests.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.LoopbackApiServer;

namespace Harness.Tests.Safety;

/// <summary>
/// The versions a cluster runs, judged as kubeadm recorded them and as Kubernetes' version-skew policy allows, fed with
/// real answers: kubeadm-config ConfigMaps and <c>/version</c> bodies (Contract/kubeadm, see Contract/README.md) served
/// to the real KubernetesClient on loopback. Before this, preflight demanded the API server equal the Vagrantfile's
/// <c>Ver</c>, so the book's own cluster (kube-apiserver v1.18.20, kubelets v1.18.4) never got past it.
/// </summary>
public sealed class VersionSkewTests
{
    private static readonly string Root =
        AllureResults.RepositoryRoot() ?? throw new InvalidOperationException("no Verification.sln above the test binaries");

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(Root, "tests", "Harness.Tests", "Contract", "kubeadm", name));

    private const string BookVagrantfile = "the Vagrantfile (Ver = '1.18.4' in /book/ch3/3.1.3/Vagrantfile)";
    private const string RevisedVagrantfile = "the Vagrantfile (k8s_V = '1.36.0' in /revised/ch3/3.1.3/Vagrantfile)";

    /// <summary>What the harness reads from an API server answering with these fixtures: kubeadm's kubernetesVersion
    /// (<see cref="VersionSkew.KubeadmVersionAsync"/>) and <c>/version</c>'s gitVersion (as <see cref="Cluster"/> reads it).</summary>
    private static async Task<(string? Kubeadm, string Server)> ReadAsync(string? kubeadmConfig, string version)
    {
        using var server = new LoopbackApiServer((request, _, _) => Task.FromResult(request.Url!.AbsolutePath switch
        {
            "/api/v1/namespaces/kube-system/configmaps/kubeadm-config" => kubeadmConfig is null
                ? new Answer(HttpStatusCode.NotFound, Fixture("configmap-not-found.json"))
                : Answer.Json(KubernetesJson.Serialize(KubernetesYaml.Deserialize<V1ConfigMap>(Fixture(kubeadmConfig)))),
            "/version" or "/version/" => Answer.Json(Fixture(version)),
            var other => new Answer(HttpStatusCode.NotFound, $"{{\"kind\":\"Status\",\"code\":404,\"message\":\"{other}\"}}"),
        }));
        using var api = server.Client();
        var kubeadm = await VersionSkew.KubeadmVersionAsync(api, CancellationToken.None);
        return (kubeadm, (await api.Version.GetCodeAsync()).GitVersion);
    }

    private static (string, string)[] Kubelets(string version, params string[] nodes) => [.. nodes.Select(n => (n, version))];

    [Test]
    public async Task Book_cluster_kubeadm_1_18_fell_back_to_v1_18_20_while_the_kubelets_run_v1_18_4_and_that_is_allowed()
    {
        var (kubeadm, server) = await ReadAsync("kubeadm-config-1.18.20.yaml", "version-1.18.20.json");
        Assert.That((kubeadm, server), Is.EqualTo(("v1.18.20", "v1.18.20")));

        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", server, kubeadm, "1.18.4", BookVagrantfile,
            Kubelets("v1.18.4", "m-k8s", "w1-k8s", "w2-k8s", "w3-k8s")));

        // main stopped here: "kube-apiserver on m-k8s: the API server is v1.18.20, the Vagrantfile … expects v1.18.4".
        Assert.That(verdict.Problems, Is.Empty);
        Assert.That(verdict.Environment, Is.EqualTo("kube-apiserver v1.18.20 (kubeadm-config), kubelets v1.18.4: allowed by the version-skew policy"));
    }

    [Test]
    public async Task Revised_edition_kubeadm_1_36_sets_up_v1_36_1_for_kubelets_v1_36_0_and_that_is_allowed()
    {
        var (kubeadm, server) = await ReadAsync("kubeadm-config-1.36.1.yaml", "version-1.36.1.json");
        Assert.That((kubeadm, server), Is.EqualTo(("v1.36.1", "v1.36.1")));

        var verdict = VersionSkew.Judge(new VersionFacts("cp-k8s", server, kubeadm, "1.36.0", RevisedVagrantfile,
            Kubelets("v1.36.0", "cp-k8s", "w1-k8s", "w2-k8s")));

        Assert.That(verdict.Problems, Is.Empty);
        Assert.That(verdict.Environment, Is.EqualTo("kube-apiserver v1.36.1 (kubeadm-config), kubelets v1.36.0: allowed by the version-skew policy"));
    }

    [Test]
    public async Task Lab_kubeadm_1_20_2_pinned_with_kubernetes_version_has_no_skew()
    {
        var (kubeadm, server) = await ReadAsync("kubeadm-config-1.20.2.yaml", "version-1.20.2.json");

        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", server, kubeadm, "1.20.2", "the Vagrantfile (Ver = '1.20.2')",
            Kubelets("v1.20.2", "m-k8s", "w1-k8s", "w2-k8s", "w3-k8s")));

        Assert.That(verdict.Problems, Is.Empty);
        Assert.That(verdict.Environment, Is.EqualTo("kube-apiserver v1.20.2 (kubeadm-config), kubelets v1.20.2: no skew"));
    }

    [Test]
    public async Task Without_kubeadm_config_the_control_plane_is_what_version_says()
    {
        var (kubeadm, server) = await ReadAsync(null, "version-1.20.2.json");
        Assert.That(kubeadm, Is.Null, "a 404 for kube-system/kubeadm-config: a cluster kubeadm did not set up");

        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", server, kubeadm, "1.20.2", "the profile (kubernetes.version 1.20.2)",
            Kubelets("v1.20.2", "m-k8s", "w1-k8s")));

        Assert.That(verdict.Problems, Is.Empty);
        Assert.That(verdict.Environment, Is.EqualTo("kube-apiserver v1.20.2 (/version, no kubeadm-config), kubelets v1.20.2: no skew"));
    }

    [Test]
    public async Task An_API_server_other_than_kubeadm_config_records_is_a_half_done_upgrade()
    {
        var (kubeadm, _) = await ReadAsync("kubeadm-config-1.18.20.yaml", "version-1.18.20.json");

        // kube-apiserver's manifest now runs v1.18.8 while kubeadm recorded v1.18.20.
        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.18.8", kubeadm, "1.18.4", BookVagrantfile,
            Kubelets("v1.18.4", "m-k8s", "w1-k8s")));

        Assert.That(verdict.Problems.Select(p => (p.Component, p.Node)), Is.EqualTo(new[] { ("kube-apiserver", "m-k8s") }));
        Assert.That(verdict.Problems[0].ToString(), Does.StartWith(
            "kube-apiserver on m-k8s: the API server is v1.18.8, but kubeadm-config records kubernetesVersion v1.18.20 (the control plane kubeadm set up): a `kubeadm upgrade` left half done"));
        Assert.That(verdict.Environment, Is.EqualTo("kube-apiserver v1.18.8 (kubeadm-config records v1.18.20), kubelets v1.18.4: allowed by the version-skew policy"));
    }

    [Test]
    public void A_kubelet_newer_than_the_API_server_is_a_problem_naming_its_node()
    {
        // No expected version in the profile: main judged nothing then.
        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.20.2", "v1.20.2", null, "",
            [("m-k8s", "v1.20.2"), ("w1-k8s", "v1.20.2"), ("w2-k8s", "v1.21.0")]));

        Assert.That(verdict.Problems.Select(p => (p.Component, p.Node)), Is.EqualTo(new[] { ("kubelet", "w2-k8s") }));
        Assert.That(verdict.Problems[0].Problem, Is.EqualTo(
            "kubelet v1.21.0 is newer than kube-apiserver v1.20.2: the version-skew policy never allows a kubelet newer than the API server"));
        Assert.That(verdict.Environment, Is.EqualTo(
            "kube-apiserver v1.20.2 (kubeadm-config), kubelets v1.20.2, v1.21.0: not allowed by the version-skew policy (kubelet on w2-k8s)"));
    }

    [Test]
    public void Within_the_API_servers_minor_any_kubelet_patch_is_allowed_by_the_policy()
    {
        // The policy is written in minor versions; a profile that expects a version still holds each kubelet to it.
        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.18.4", "v1.18.4", null, "", [("w1-k8s", "v1.18.20"), ("w2-k8s", "v1.18.4")]));
        Assert.That(verdict.Problems, Is.Empty);
        Assert.That(verdict.Environment, Is.EqualTo("kube-apiserver v1.18.4 (kubeadm-config), kubelets v1.18.4, v1.18.20: allowed by the version-skew policy"));
    }

    [Test]
    public void A_kubelet_three_minors_older_than_a_1_27_API_server_is_a_problem_and_fine_from_1_28_on()
    {
        var old = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.27.16", "v1.27.16", null, "",
            [("m-k8s", "v1.27.16"), ("w1-k8s", "v1.25.16"), ("w3-k8s", "v1.24.17")]));
        Assert.That(old.Problems.Select(p => (p.Component, p.Node)), Is.EqualTo(new[] { ("kubelet", "w3-k8s") }), "two minors older (w1-k8s) is allowed");
        Assert.That(old.Problems[0].Problem, Is.EqualTo(
            "kubelet v1.24.17 is 3 minor versions older than kube-apiserver v1.27.16: the version-skew policy allows a kubelet before 1.25 to be at most 2 minor versions older"));

        var now = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.28.15", "v1.28.15", null, "", [("w1-k8s", "v1.25.16")]));
        Assert.That(now.Problems, Is.Empty);
        Assert.That(now.Environment, Does.EndWith(": allowed by the version-skew policy"));

        var four = VersionSkew.Judge(new VersionFacts("cp-k8s", "v1.36.1", "v1.36.1", null, "", [("w1-k8s", "v1.32.0")]));
        Assert.That(four.Problems.Single().Problem, Does.Contain("4 minor versions older").And.Contain("at most 3"));
    }

    [Test]
    public void An_API_server_of_another_minor_than_the_Vagrantfile_is_the_wrong_cluster_or_profile()
    {
        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.20.2", "v1.20.2", "1.18.4", BookVagrantfile,
            Kubelets("v1.20.2", "m-k8s", "w1-k8s")));

        Assert.That(verdict.Problems[0].ToString(), Does.StartWith(
            $"kube-apiserver on m-k8s: the API server is v1.20.2, {BookVagrantfile} expects v1.18.4: another minor version, so this is not the cluster the profile describes"));
        // The kubelets are still held to what the book's packages install.
        Assert.That(verdict.Problems.Skip(1).Select(p => p.ToString()), Is.EqualTo(new[]
        {
            $"kubelet on m-k8s: kubelet is v1.20.2, {BookVagrantfile} expects v1.18.4 — upgrade kubelet on m-k8s or fix the expected version (without it: every pod on that node)",
            $"kubelet on w1-k8s: kubelet is v1.20.2, {BookVagrantfile} expects v1.18.4 — upgrade kubelet on w1-k8s or fix the expected version (without it: every pod on that node)",
        }));
    }

    [Test]
    public void An_API_server_older_than_the_packages_kubeadm_is_a_problem()
    {
        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.18.2", "v1.18.2", "1.18.4", BookVagrantfile, []));
        Assert.That(verdict.Problems.Single().Problem, Is.EqualTo($"the API server is v1.18.2, older than the v1.18.4 {BookVagrantfile} expects (kubeadm sets up its own version or a newer patch)"));
    }

    [Test]
    public void An_expected_version_without_a_patch_is_named_as_the_profiles_fault()
    {
        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.18.20", "v1.18.20", "1.18", "the profile (kubernetes.version 1.18)",
            Kubelets("v1.18.4", "m-k8s")));
        Assert.That(verdict.Problems.Select(p => p.ToString()), Is.EqualTo(new[]
        {
            "kubernetes.version on the profile: the profile (kubernetes.version 1.18) expects '1.18', which is no Kubernetes version (major.minor.patch) — fix the expected version",
        }));
    }

    [TestCase("v1.18.20", 1, 18, 20)]
    [TestCase("v1.20.2", 1, 20, 2)]
    [TestCase("v1.36.0", 1, 36, 0)]
    [TestCase("1.18.4-0", 1, 18, 4)]
    [TestCase("1.36.0-1.1", 1, 36, 0)]
    [TestCase("v1.30.4+k3s1", 1, 30, 4)]
    [TestCase("v1.31.2-eks-7f9249a", 1, 31, 2)]
    public void Versions_are_read_whatever_follows_the_patch(string text, int major, int minor, int patch) =>
        Assert.That(KubeVersion.Parse(text), Is.EqualTo(new KubeVersion(major, minor, patch)));

    [TestCase("")]
    [TestCase("stable-1.18")]
    [TestCase("v1.18")]
    public void What_is_no_version_is_not_read_as_one(string text) => Assert.That(KubeVersion.Parse(text), Is.Null);

    [Test]
    public void A_kubelet_that_reports_no_version_is_named()
    {
        var verdict = VersionSkew.Judge(new VersionFacts("m-k8s", "v1.20.2", null, null, "", [("w1-k8s", "v0.0.0-master+$Format:%h$"), ("w2-k8s", "")]));
        Assert.That(verdict.Problems.Select(p => p.Node), Is.EqualTo(new[] { "w1-k8s", "w2-k8s" }));
    }

    [Test]
    public void The_kubelet_list_is_oldest_first_whatever_order_the_nodes_come_in()
    {
        // The gate prints a change of this text as a version bump: the same nodes must give the same text.
        Assert.That(VersionSkew.Join(["v1.18.20", "v1.18.4", "v1.18.20"]), Is.EqualTo("v1.18.4, v1.18.20"));
        Assert.That(VersionSkew.Join(["v1.18.4", "v1.18.20"]), Is.EqualTo("v1.18.4, v1.18.20"));
    }

    [Test]
    public void The_kubeadm_version_is_read_from_the_ClusterConfiguration_text_only()
    {
        var config = KubernetesYaml.Deserialize<V1ConfigMap>(Fixture("kubeadm-config-1.18.20.yaml"));
        Assert.That(VersionSkew.KubeadmVersion(config.Data["ClusterConfiguration"]), Is.EqualTo("v1.18.20"));
        Assert.That(VersionSkew.KubeadmVersion(config.Data["ClusterStatus"]), Is.Null);
        Assert.That(VersionSkew.KubeadmVersion("kubernetesVersion: [unclosed"), Is.Null);
        Assert.That(VersionSkew.KubeadmVersion(null), Is.Null);
    }
}
