using Harness.Profiles;
using Harness.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Profiles;

public class ProfileLoaderTests
{
    private static readonly string ProfilesDirectory =
        Path.Combine(AllureResults.RepositoryRoot() ?? throw new InvalidOperationException("no Verification.sln above the test binaries"),
            "fixtures", "profiles");

    // The smallest profile that passes validation; each error test breaks one thing in it.
    private const string Minimal = """
        name: tiny
        discovery:
          mode: static
          nodes:
          - {name: cp, host: 10.0.0.1}
          - {name: w1, host: 10.0.0.2}
        login: {user: root}
        controlPlane: cp
        workers: [w1]
        faultTargets: [w1]
        """;

    private static ProfileException Refused(string yaml) =>
        Assert.Throws<ProfileException>(() => ProfileLoader.Parse(yaml, "/profiles/tiny.yaml"))!;

    [TestCase("lab", "m-k8s", "sysctl -w net.ipv4.ip_forward=0", true)]
    [TestCase("book", "m-k8s", "modprobe -r br_netfilter && systemctl restart network", true)]
    [TestCase("revised", "cp-k8s", "modprobe -r br_netfilter && netplan apply", true)]
    public void Every_real_profile_loads_with_its_nodes_targets_and_commands(
        string name, string controlPlane, string breakPodNetwork, bool serverHeaderShowsVersion)
    {
        var profile = ProfileLoader.Load(name, ProfilesDirectory);

        Assert.That(profile.Name, Is.EqualTo(name));
        Assert.That(profile.ControlPlane, Is.EqualTo(controlPlane));
        Assert.That(profile.Workers, Is.Empty, "the workers are the Vagrantfile's machines besides the control plane, as many as its N");
        Assert.That(profile.FaultTargets, Is.Empty, "every worker, never the control plane");
        Assert.That(profile.Discovery.Mode, Is.EqualTo("vagrant"));
        Assert.That(profile.Commands.BreakPodNetwork, Is.EqualTo(breakPodNetwork));
        Assert.That(profile.Commands.StopKubelet, Is.EqualTo("systemctl stop kubelet"));
        Assert.That(profile.Images.ServerHeaderShowsVersion, Is.EqualTo(serverHeaderShowsVersion));
        Assert.That(profile.SourcePath, Is.EqualTo(Path.Combine(ProfilesDirectory, name + ".yaml")));
    }

    // The book's kubectl 1.18 has --record and only --delete-local-data; the lab's 1.20.2 both flags; the revised 1.36 no --record in use.
    [TestCase("book", true, "--delete-local-data")]
    [TestCase("lab", true, "--delete-emptydir-data")]
    [TestCase("revised", false, "--delete-emptydir-data")]
    public void Every_real_profile_says_which_kubectl_flags_the_books_commands_use(string name, bool hasRecord, string emptyDirFlag)
    {
        var profile = ProfileLoader.Load(name, ProfilesDirectory);

        Assert.That(profile.Kubernetes.KubectlHasRecord, Is.EqualTo(hasRecord));
        Assert.That(profile.Kubernetes.DrainEmptyDirFlag, Is.EqualTo(emptyDirFlag));
    }

    [TestCase("", "--delete-emptydir-data")]
    [TestCase("\nkubernetes: {version: vagrantfile}", "--delete-emptydir-data")]
    [TestCase("\nkubernetes: {version: v1.19.16}", "--delete-local-data")]
    [TestCase("\nkubernetes: {version: 1.20.2}", "--delete-emptydir-data")]
    public void A_profile_that_leaves_the_drain_flag_out_gets_its_versions_or_the_current_one(string kubernetes, string expected)
    {
        var profile = ProfileLoader.Parse(Minimal + kubernetes, "/profiles/tiny.yaml");

        Assert.That(profile.Kubernetes.DrainEmptyDirFlag, Is.EqualTo(expected));
    }

    [Test]
    public void An_unknown_drain_flag_is_refused_naming_both_real_ones()
    {
        var e = Refused(Minimal + "\nkubernetes: {drainEmptyDirFlag: --delete-local}");

        Assert.That(e.Message, Does.Contain(
            "'kubernetes.drainEmptyDirFlag' is '--delete-local'; use '--delete-local-data' (kubectl up to 1.19) or '--delete-emptydir-data' (from 1.20)"));
    }

    [TestCase("1.18.4", "--delete-emptydir-data", "which kubectl 1.18 does not know; use '--delete-local-data'")]
    [TestCase("v1.36.0", "--delete-local-data", "which kubectl 1.36 no longer has; use '--delete-emptydir-data'")]
    public void A_drain_flag_the_profiles_kubectl_version_lacks_is_refused(string version, string flag, string expected)
    {
        var e = Refused(Minimal + $"\nkubernetes: {{version: {version}, drainEmptyDirFlag: {flag}}}");

        Assert.That(e.Message, Does.Contain($"'kubernetes.drainEmptyDirFlag' is '{flag}', {expected}"));
    }

    [TestCase("1.18.4", "--delete-local-data")]
    [TestCase("1.20.2", "--delete-local-data")]
    [TestCase("1.20.2", "--delete-emptydir-data")]
    [TestCase("vagrantfile", "--delete-emptydir-data")]
    public void A_drain_flag_the_kubectl_version_has_is_accepted(string version, string flag) =>
        Assert.That(ProfileLoader.Parse(Minimal + $"\nkubernetes: {{version: {version}, drainEmptyDirFlag: {flag}}}", "/profiles/tiny.yaml")
            .Kubernetes.DrainEmptyDirFlag, Is.EqualTo(flag));

    [Test]
    public void Host_keys_are_pinned_per_profile_so_book_and_revised_on_the_same_address_do_not_clash()
    {
        var book = ProfileLoader.Load("book", ProfilesDirectory);
        var revised = ProfileLoader.Load("revised", ProfilesDirectory);
        var lab = ProfileLoader.Load("lab", ProfilesDirectory);

        var files = new[] { book, revised, lab }.Select(p => p.ResolvePath(p.Login.KnownHostsFile)).ToList();

        Assert.That(files, Is.Unique);
        Assert.That(Path.GetFileName(files[0]), Is.EqualTo("known_hosts-book.json"));
        Assert.That(Path.GetFileName(files[1]), Is.EqualTo("known_hosts-revised.json"));
    }

    [Test]
    public void The_lab_variant_profile_names_the_revised_editions_nodes_and_asks_vagrant_for_that_variant()
    {
        var variant = ProfileLoader.Load("lab-revised", ProfilesDirectory);
        var lab = ProfileLoader.Load("lab", ProfilesDirectory);

        Assert.That(variant.ControlPlane, Is.EqualTo("cp-k8s"));
        Assert.That(variant.Discovery.MachineNames, Is.EqualTo("{node}-*"), "machine cp-k8s-1.20.2 is node cp-k8s");
        Assert.That(variant.Edition.NginxPod, Is.EqualTo("po-nginx"), "the revised edition's pod name");
        Assert.That(lab.Edition.NginxPod, Is.EqualTo("nginx-pod"), "the first edition's");
        Assert.That(variant.Workers, Is.Empty, "the workers are the machines the variant's Vagrantfile defines (LAB_WORKERS)");
        Assert.That(variant.Discovery.VagrantEnvironment,
            Does.ContainKey("LAB_NAMING").WithValue("revised").And.ContainKey("LAB_WORKERS").WithValue("2").And.ContainKey("LAB_CNI").WithValue("routed"));
        Assert.That(variant.Components.PerNodeDaemonSets, Is.EqualTo(new[] { "kube-proxy", "lab-cni-node" }),
            "the routed lab's CNI DaemonSet, as calico-node on the revised edition's cluster");
        Assert.That(variant.Commands.BreakCni + variant.Commands.RestoreCni, Does.Not.Contain("lab-podnet"),
            "nothing rewrites the routed lab's CNI config: no writer to stop");
        Assert.That(variant.Commands.RestoreCni, Does.Contain("cp -a"), "written back, not renamed in (containerd 1.6 ignores a file moved in)");
        Assert.That(variant.ResolvePath(variant.Discovery.VagrantDirectory), Is.EqualTo(lab.ResolvePath(lab.Discovery.VagrantDirectory)));
        Assert.That(variant.ResolvePath(variant.Login.KnownHostsFile), Is.Not.EqualTo(lab.ResolvePath(lab.Login.KnownHostsFile)),
            "same addresses and ports, different nodes: host keys pinned apart");
        Assert.That(variant.Images.ServerHeaderShowsVersion, Is.True);
    }

    [Test]
    public void A_profile_without_a_known_hosts_file_gets_one_of_its_own()
    {
        var profile = ProfileLoader.Parse(Minimal, "/profiles/tiny.yaml");
        var other = ProfileLoader.Parse(Minimal.Replace("name: tiny", "name: other"), "/profiles/other.yaml");

        Assert.That(profile.Login.KnownHostsFile, Is.EqualTo("~/.cache/verification/known_hosts-tiny.json"));
        Assert.That(other.Login.KnownHostsFile, Is.EqualTo("~/.cache/verification/known_hosts-other.json"));
        Assert.That(ProfileLoader.Parse(Minimal, "/profiles/tiny.yaml", new Dictionary<string, string> { ["login.knownHostsFile"] = "/tmp/mine.json" })
            .Login.KnownHostsFile, Is.EqualTo("/tmp/mine.json"), "a file given is kept");
    }

    [Test]
    public void The_lab_profile_finds_its_vagrant_directory_next_to_the_profiles()
    {
        var lab = ProfileLoader.Load("lab", ProfilesDirectory);

        Assert.That(lab.ResolvePath(lab.Discovery.VagrantDirectory), Is.EqualTo(Path.GetFullPath(Path.Combine(ProfilesDirectory, "..", "lab"))));
        Assert.That(lab.Discovery.VagrantEnvironment["DOCKER_HOST"], Is.EqualTo("unix:///run/podman/podman.sock"));
        Assert.That(lab.Kubernetes.KubectlHasRecord, Is.True);
    }

    [Test]
    public void Dotted_overrides_replace_scalars_nested_values_and_lists()
    {
        var profile = ProfileLoader.Load("lab", ProfilesDirectory, new Dictionary<string, string>
        {
            ["login.user"] = "vagrant",
            ["timeouts.podReadySeconds"] = "300",
            ["faultTargets"] = "w1-k8s, w2-k8s",
            ["safety.dryRun"] = "true",
        });

        Assert.That(profile.Login.User, Is.EqualTo("vagrant"));
        Assert.That(profile.Timeouts.PodReadySeconds, Is.EqualTo(300));
        Assert.That(profile.FaultTargets, Is.EqualTo(new[] { "w1-k8s", "w2-k8s" }));
        Assert.That(profile.Safety.DryRun, Is.True);
        Assert.That(profile.Timeouts.PodGoneSeconds, Is.EqualTo(180), "settings not overridden keep the file's value");
    }

    [Test]
    public void An_override_is_still_validated()
    {
        var e = Assert.Throws<ProfileException>(() =>
            ProfileLoader.Load("lab", ProfilesDirectory, new Dictionary<string, string> { ["workers"] = "w1-k8s,w2-k8s", ["faultTargets"] = "w1-k8s,m-k9s" }))!;

        Assert.That(e.Message, Does.Contain("fault target 'm-k9s' is not a node"));
    }

    [Test]
    public void An_override_that_does_not_fit_names_the_override()
    {
        var e = Assert.Throws<ProfileException>(() =>
            ProfileLoader.Load("lab", ProfilesDirectory, new Dictionary<string, string> { ["timeouts.podReadySecs"] = "300" }))!;

        Assert.That(e.Message, Does.Contain("the overrides (timeouts.podReadySecs=300) do not fit it"));
        Assert.That(e.Message, Does.Contain("podReadySecs"));
    }

    [Test]
    public void An_unknown_profile_lists_the_known_ones()
    {
        var e = Assert.Throws<ProfileException>(() => ProfileLoader.Load("labb", ProfilesDirectory))!;

        Assert.That(e.Message, Does.StartWith("Unknown profile 'labb'"));
        Assert.That(e.Message, Does.Contain("Known profiles: book, lab, lab-revised, revised"));
    }

    [Test]
    public void Malformed_yaml_names_the_file_line_and_column()
    {
        var e = Refused(Minimal + "\nworkers: [w1\n");

        Assert.That(e.Message, Does.StartWith("Profile /profiles/tiny.yaml is malformed at line "));
        Assert.That(e.Message, Does.Match(@"at line \d+, column \d+: \S"));
    }

    [Test]
    public void A_typo_in_a_key_is_refused_at_its_line()
    {
        var e = Refused(Minimal.Replace("workers:", "workerz:"));

        // Line 9 of the file as written, not of any re-serialised copy.
        Assert.That(e.Message, Does.StartWith("Profile /profiles/tiny.yaml is malformed at line 9, column 1"));
        Assert.That(e.Message, Does.Contain("workerz"));
    }

    [Test]
    public void Malformed_yaml_says_what_the_parser_expected()
    {
        var e = Refused(Minimal + "\nworkers: [w1\n");

        Assert.That(e.Message, Does.Contain("did not find expected"), "the parser's own reason, not a generic one");
    }

    [Test]
    public void A_list_override_works_when_the_file_leaves_the_list_out()
    {
        var profile = ProfileLoader.Parse(Minimal.Replace("faultTargets: [w1]\n", ""), "/profiles/tiny.yaml",
            new Dictionary<string, string> { ["faultTargets"] = "w1" });

        Assert.That(profile.FaultTargets, Is.EqualTo(new[] { "w1" }));
    }

    [Test]
    public void The_minimal_profile_is_valid()
    {
        var profile = ProfileLoader.Parse(Minimal, "/profiles/tiny.yaml");

        Assert.That(profile.AllNodes, Is.EqualTo(new[] { "cp", "w1" }));
        Assert.That(profile.Discovery.Nodes.Select(n => n.Port), Is.All.EqualTo(22));
    }

    [Test]
    public void A_fault_target_that_is_not_a_node_is_refused()
    {
        var e = Refused(Minimal.Replace("faultTargets: [w1]", "faultTargets: [w1, w9]"));

        Assert.That(e.Message, Does.StartWith("Profile /profiles/tiny.yaml cannot be used:"));
        Assert.That(e.Message, Does.Contain("fault target 'w9' is not a node of this profile (cp, w1); 'faultTargets' takes workers only (w1)"));
    }

    [Test]
    public void The_control_plane_as_a_fault_target_is_refused_naming_the_workers()
    {
        var e = Refused(Minimal.Replace("faultTargets: [w1]", "faultTargets: [w1, cp]"));

        Assert.That(e.Message, Is.EqualTo("Profile /profiles/tiny.yaml cannot be used: fault target 'cp' is the control plane; " +
            "'faultTargets' takes workers only (w1); control-plane components are stopped through 'components.stoppable'."));
    }

    [Test]
    public void With_vagrant_discovery_the_control_plane_as_a_fault_target_is_refused_on_loading_before_the_workers_are_known()
    {
        var e = Assert.Throws<ProfileException>(() => ProfileLoader.Load("lab", ProfilesDirectory, new Dictionary<string, string> { ["faultTargets"] = "m-k8s" }))!;

        Assert.That(e.Message, Does.Contain("fault target 'm-k8s' is the control plane; 'faultTargets' takes workers only " +
                                            "(the Vagrantfile's machines besides the control plane)"));
    }

    [Test]
    public void With_vagrant_discovery_a_fault_target_waits_for_the_workers_discovery_finds()
    {
        var lab = ProfileLoader.Load("lab", ProfilesDirectory, new Dictionary<string, string> { ["faultTargets"] = "w9-k8s" });

        Assert.That(lab.FaultTargets, Is.EqualTo(new[] { "w9-k8s" }), "checked right after discovery (BadInput: FaultTargetNotADiscoveredWorker)");
        Assert.That(ProfileNodes.Problems(lab.WithWorkers(["w1-k8s", "w2-k8s"]), "cluster"), Is.EqualTo(new[]
        {
            "fault target 'w9-k8s' is not a node of this cluster (m-k8s, w1-k8s, w2-k8s); 'faultTargets' takes workers only (w1-k8s, w2-k8s)",
        }));
    }

    [Test]
    public void The_control_plane_as_a_worker_is_refused()
    {
        var e = Refused(Minimal.Replace("workers: [w1]", "workers: [w1, cp]"));

        Assert.That(e.Message, Does.Contain("'workers' names cp, the control plane ('controlPlane'); list the worker nodes only"));
    }

    [Test]
    public void A_static_node_without_an_address_entry_is_refused()
    {
        var e = Refused(Minimal.Replace("workers: [w1]", "workers: [w1, w2]"));

        Assert.That(e.Message, Does.Contain("node 'w2' has no entry under 'discovery.nodes'"));
    }

    [Test]
    public void An_unknown_discovery_mode_is_refused()
    {
        var e = Refused(Minimal.Replace("mode: static", "mode: virtualbox"));

        Assert.That(e.Message, Does.Contain("'discovery.mode' is 'virtualbox'; use 'vagrant' or 'static'"));
    }

    [Test]
    public void An_empty_list_is_refused_with_a_message_not_a_null_reference()
    {
        var e = Refused(Minimal.Replace("workers: [w1]", "workers:"));

        Assert.That(e.Message, Does.Contain("'workers' lists no node"));
    }

    [Test]
    public void Relative_paths_resolve_against_the_profile_folder_and_tilde_against_home()
    {
        var profile = new ClusterProfile { SourcePath = "/srv/profiles/lab.yaml" };
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

        Assert.That(profile.ResolvePath("../lab"), Is.EqualTo("/srv/lab"));
        Assert.That(profile.ResolvePath("keys/id_ed25519"), Is.EqualTo("/srv/profiles/keys/id_ed25519"));
        Assert.That(profile.ResolvePath("~/.cache/verification/fault-ledger.jsonl"), Is.EqualTo(Path.Combine(home, ".cache/verification/fault-ledger.jsonl")));
        Assert.That(profile.ResolvePath("/etc/kubernetes/admin.conf"), Is.EqualTo("/etc/kubernetes/admin.conf"));
    }

    [TestCase("{ledger: cluster}", "'safety.ledger' is 'cluster'; use 'local' (the file safety.ledgerFile on this machine) or 'controlPlane'")]
    [TestCase("{ledger: controlPlane, controlPlaneStateDirectory: var/lib/verification}", "'safety.controlPlaneStateDirectory' is 'var/lib/verification'; give an absolute path")]
    [TestCase("{ledger: controlPlane, controlPlaneStateDirectory: '/var/lib/$(reboot)'}", "'safety.controlPlaneStateDirectory' is '/var/lib/$(reboot)'")]
    [TestCase("{controlPlaneStateDirectory: /}", "'safety.controlPlaneStateDirectory' is '/'")]
    public void A_wrong_ledger_setting_is_refused_with_what_to_write(string safety, string message) =>
        Assert.That(Refused(Minimal + $"\nsafety: {safety}").Message, Does.Contain(message));

    [Test]
    public void The_ledger_stays_local_unless_the_profile_says_controlPlane()
    {
        var profile = ProfileLoader.Parse(Minimal + "\nsafety: {ledger: '', controlPlaneStateDirectory: ''}", "/profiles/tiny.yaml");
        Assert.That((profile.Safety.Ledger, profile.Safety.ControlPlaneStateDirectory), Is.EqualTo(("local", "/var/lib/verification")),
            "keys given empty get the defaults");
    }
}
