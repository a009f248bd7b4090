using Harness.Diagnosis;
using Harness.Profiles;
using NUnit.Framework;

namespace Harness.Tests.Safety.Diagnosis;

/// <summary>
/// The control-plane diagnosis judged without a cluster: crictl's and docker's tables, the API server's
/// /readyz?verbose, and whole outputs of the diagnosis script as the control plane prints them in each fault.
/// </summary>
public sealed class ControlPlaneDiagnosisTests
{
    private static readonly ClusterProfile Profile = ProfileLoader.Parse(
        "controlPlane: m-k8s\nworkers: [w1-k8s]\ndiscovery: {mode: vagrant, vagrantDirectory: .}\n", "/tmp/p.yaml");

    // ---- crictl ps -a (cri-tools' tabwriter: minwidth 20, padding 3) ----

    /// <summary>cri-tools 1.19-1.25 (kubeadm 1.20 on containerd 1.4): CONTAINER … POD ID.</summary>
    public const string Crictl120SchedulerCrashLooping = """
        CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID
        5f6d2a7c1e3b9       a8c2fdb8bf76e       25 seconds ago      Exited              kube-scheduler      5                   0c6a7b6c1d2e8
        0b1c2d3e4f5a6       a8c2fdb8bf76e       2 minutes ago       Exited              kube-scheduler      4                   0c6a7b6c1d2e8
        """;

    /// <summary>cri-tools 1.26+ adds the pod's name; CREATED has spaces ("About a minute ago").</summary>
    public const string Crictl13xApiServerRunning = """
        CONTAINER           IMAGE               CREATED              STATE               NAME                ATTEMPT             POD ID              POD
        9a1b2c3d4e5f6       6d3ffc2696ac2       About a minute ago   Running             kube-apiserver      2                   7e8f9a0b1c2d3       kube-apiserver-cp-k8s
        """;

    /// <summary>cri-tools 1.13 (the book's yum repository of 2020): the first heading is "CONTAINER ID".</summary>
    public const string Crictl113Etcd = """
        CONTAINER ID        IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID
        3e9f5c5b1a2d4       303ce5db0e90d       2 hours ago         Running             etcd                0                   1a2b3c4d5e6f7
        """;

    [Test]
    public void Crictl_tables_of_every_version_give_id_name_state_and_attempt()
    {
        Assert.That(ControlPlaneEvidence.ParseCrictlPs(Crictl120SchedulerCrashLooping), Is.EqualTo(new[]
        {
            new ContainerRow("5f6d2a7c1e3b9", "kube-scheduler", "Exited", 5),
            new ContainerRow("0b1c2d3e4f5a6", "kube-scheduler", "Exited", 4),
        }));
        Assert.That(ControlPlaneEvidence.ParseCrictlPs(Crictl13xApiServerRunning), Is.EqualTo(new[] { new ContainerRow("9a1b2c3d4e5f6", "kube-apiserver", "Running", 2) }));
        Assert.That(ControlPlaneEvidence.ParseCrictlPs(Crictl113Etcd), Is.EqualTo(new[] { new ContainerRow("3e9f5c5b1a2d4", "etcd", "Running", 0) }));
        Assert.That(ControlPlaneEvidence.ParseCrictlPs("CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID\n"), Is.Empty);
    }

    // ---- docker ps -a --filter name=k8s_<c>_ (dockershim names k8s_CONTAINER_POD_NAMESPACE_UID_ATTEMPT) ----

    /// <summary>docker 20.10 (the lab's Debian docker.io; docker-ce 18.06 prints the same columns, wider).</summary>
    public const string Docker2010SchedulerCrashLooping = """
        CONTAINER ID   IMAGE          COMMAND                  CREATED          STATUS                      PORTS     NAMES
        4c1d2e3f4a5b   a05a1a79adaa   "kube-scheduler --au…"   28 seconds ago   Exited (1) 27 seconds ago             k8s_kube-scheduler_kube-scheduler-m-k8s_kube-system_7a4d1e2f3b4c5d6e7f8a9b0c1d2e3f4a_5
        """;

    /// <summary>CentOS 7's docker 1.13.1: tabwriter minwidth 20.</summary>
    public const string Docker113ApiServerUp = """
        CONTAINER ID        IMAGE               COMMAND                  CREATED             STATUS              PORTS               NAMES
        8f7e6d5c4b3a        a595af0107f9        "kube-apiserver --..."   3 hours ago         Up 3 hours                              k8s_kube-apiserver_kube-apiserver-m-k8s_kube-system_2d8f0a1b3c4d5e6f7a8b9c0d1e2f3a4b_0
        """;

    [Test]
    public void Docker_tables_give_the_container_name_attempt_and_exit_code_from_kubelets_naming()
    {
        Assert.That(ControlPlaneEvidence.ParseDockerPs(Docker2010SchedulerCrashLooping),
            Is.EqualTo(new[] { new ContainerRow("4c1d2e3f4a5b", "kube-scheduler", "Exited", 5, 1) }));
        Assert.That(ControlPlaneEvidence.ParseDockerPs(Docker113ApiServerUp),
            Is.EqualTo(new[] { new ContainerRow("8f7e6d5c4b3a", "kube-apiserver", "Running", 0) }));
    }

    // ---- /readyz?verbose (healthz.go handleRootHealth: "[+]%s ok", "[-]%s failed: reason withheld", "%s check failed") ----

    /// <summary>kube-apiserver 1.18 with etcd stopped (HTTP 500).</summary>
    public const string Readyz118EtcdDown = """
        [+]ping ok
        [+]log ok
        [-]etcd failed: reason withheld
        [+]informer-sync ok
        [+]poststarthook/start-kube-apiserver-admission-initializer ok
        [+]poststarthook/generic-apiserver-start-informers ok
        [+]poststarthook/start-apiextensions-informers ok
        [+]poststarthook/start-apiextensions-controllers ok
        [+]poststarthook/crd-informer-synced ok
        [+]poststarthook/bootstrap-controller ok
        [+]poststarthook/rbac/bootstrap-roles ok
        [+]poststarthook/scheduling/bootstrap-system-priority-classes ok
        [+]poststarthook/start-cluster-authentication-info-controller ok
        [+]poststarthook/start-kube-aggregator-informers ok
        [+]poststarthook/apiservice-registration-controller ok
        [+]poststarthook/apiservice-status-available-controller ok
        [+]poststarthook/kube-apiserver-autoregistration ok
        [+]autoregister-completion ok
        [+]poststarthook/apiservice-openapi-controller ok
        [+]shutdown ok
        readyz check failed
        """;

    /// <summary>kube-apiserver 1.28+ with etcd stopped: etcd-readiness fails too.</summary>
    public const string Readyz13xEtcdDown = """
        [+]ping ok
        [+]log ok
        [-]etcd failed: reason withheld
        [-]etcd-readiness failed: reason withheld
        [+]informer-sync ok
        [+]poststarthook/start-apiserver-admission-initializer ok
        [+]poststarthook/priority-and-fairness-filter ok
        [+]poststarthook/storage-object-count-tracker-hook ok
        [+]poststarthook/rbac/bootstrap-roles ok
        [+]shutdown ok
        readyz check failed
        """;

    [Test]
    public void Readyz_lists_each_check_with_its_line()
    {
        var checks = ControlPlaneEvidence.ParseReadyz(Readyz118EtcdDown);
        Assert.That(checks, Has.Count.EqualTo(20));
        Assert.That(checks.Where(c => !c.Ok), Is.EqualTo(new[] { new ReadyzCheck("etcd", false, "[-]etcd failed: reason withheld") }));
        Assert.That(checks.First(c => c.Name == "poststarthook/rbac/bootstrap-roles").Ok, Is.True);

        Assert.That(ControlPlaneEvidence.ParseReadyz(Readyz13xEtcdDown).Where(c => !c.Ok).Select(c => c.Name), Is.EqualTo(new[] { "etcd", "etcd-readiness" }));
        Assert.That(ControlPlaneEvidence.ParseReadyz("[+]ping ok\n[+]etcd excluded: ok\nreadyz check passed\n").All(c => c.Ok), Is.True);
    }

    // ---- whole script outputs ----

    private static string Component(string name, string manifest, string? ps = null, string? exit = null, string? logs = null, string? errorLine = null, string? id = null) =>
        $"@@diag component {name}\n@@diag manifest {manifest}\n" +
        (ps is null ? "" : $"@@diag ps\n{ps}\n") +
        (exit is null ? "" : $"@@diag exit\n{exit}\n") +
        (logs is null ? "" : $"@@diag logs {id}\n{logs}\n@@diag error-line\n{errorLine}\n");

    private const string CrictlHeader = "CONTAINER           IMAGE               CREATED             STATE               NAME                      ATTEMPT             POD ID";

    private static string Row(string id, string state, string name, int attempt) =>
        $"{id}       a8c2fdb8bf76e       3 minutes ago       {state,-20}{name,-26}{attempt,-20}0c6a7b6c1d2e8";

    private static string Running(string name, string id) =>
        Component(name, "present", $"{CrictlHeader}\n{Row(id, "Running", name, 0)}", "    \"exitCode\": 0,", "I1205 17:02:11.000000       1 server.go:100] serving", null, id);

    private const string EtcdRefused = "@@diag etcd-health http://127.0.0.1:2381/health\ncurl: (7) Failed to connect to 127.0.0.1 port 2381 after 0 ms: Connection refused\n\n@@diag http 000\n@@diag curl 7\n";

    /// <summary>Issue 18's first fault: etcd's manifest moved away; the API server runs and answers /readyz with 500.</summary>
    public static readonly string EtcdStopped =
        "@@diag runtime crictl\n@@diag kubelet active\n" +
        Running("kube-apiserver", "9a1b2c3d4e5f6") +
        Component("etcd", "missing", CrictlHeader) +
        Running("kube-scheduler", "5f6d2a7c1e3b9") +
        Running("kube-controller-manager", "1d2e3f4a5b6c7") +
        $"@@diag readyz https://127.0.0.1:6443/readyz?verbose\n{Readyz118EtcdDown}\n@@diag http 500\n@@diag curl 0\n" +
        EtcdRefused + "@@diag end\n";

    [Test]
    public void Etcd_stopped_is_named_with_its_manifest_and_what_readyz_says()
    {
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(EtcdStopped), Profile);

        Assert.That(report.Problems.Select(p => p.ToString()), Is.EqualTo(new[]
        {
            "etcd on m-k8s: not running: /etc/kubernetes/manifests/etcd.yaml is missing; the API server answers but /readyz says [-]etcd failed: reason withheld " +
            "— put the manifest back into /etc/kubernetes/manifests on m-k8s (`mv /etc/kubernetes/verification-parked/etcd.yaml /etc/kubernetes/manifests/` " +
            "if a control-plane check parked it there; the next run does that itself when the ledger says it parked it) " +
            "(without it: every check: the API server keeps all objects in it)",
        }));
    }

    [Test]
    public void Etcd_named_by_readyz_alone_when_no_runtime_answers_is_still_named()
    {
        var output = EtcdStopped.Replace("@@diag runtime crictl", "@@diag runtime-error crictl\ncrictl: connect: connection refused\n@@diag runtime none")
            .Replace("@@diag manifest missing", "@@diag manifest present");
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(output), Profile);

        Assert.That(report.Problems.Select(p => p.Component), Is.EqualTo(new[] { "etcd" }));
        Assert.That(report.Problems[0].Problem, Is.EqualTo(
            "not serving: the API server answers but /readyz says [-]etcd failed: reason withheld; etcd's http://127.0.0.1:2381/health gave connection refused"));
        Assert.That(report.Observations, Does.Contain("no container runtime CLI answered (crictl, docker): crictl: crictl: connect: connection refused"));
    }

    /// <summary>A bad flag in kube-scheduler's manifest: kubelet restarts it with growing back-off; its log ends in the usage text.</summary>
    public static readonly string SchedulerCrashLooping =
        "@@diag runtime crictl\n@@diag kubelet active\n" +
        Running("kube-apiserver", "9a1b2c3d4e5f6") + Running("etcd", "3e9f5c5b1a2d4") +
        Component("kube-scheduler", "present", Crictl120SchedulerCrashLooping, "    \"exitCode\": 1,",
            "      --vmodule moduleSpec                                       comma-separated list of pattern=N settings for file-filtered logging",
            "Error: unknown flag: --bogus", "5f6d2a7c1e3b9") +
        Running("kube-controller-manager", "1d2e3f4a5b6c7") +
        "@@diag readyz https://127.0.0.1:6443/readyz?verbose\n[+]ping ok\n[+]etcd ok\nreadyz check passed\n@@diag http 200\n@@diag curl 0\n" +
        "@@diag etcd-health http://127.0.0.1:2381/health\n{\"health\":\"true\"}\n@@diag http 200\n@@diag curl 0\n@@diag end\n";

    [Test]
    public void A_crash_looping_static_pod_is_named_with_its_exit_code_restarts_and_error()
    {
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(SchedulerCrashLooping), Profile);

        Assert.That(report.Problems.Select(p => p.ToString()), Is.EqualTo(new[]
        {
            "kube-scheduler on m-k8s: crash-looping (exited with code 1, 5 restarts): last error in its log \"Error: unknown flag: --bogus\" " +
            "— look at `crictl ps -a --name kube-scheduler` and `crictl logs 5f6d2a7c1e3b9` on m-k8s, and the flags in /etc/kubernetes/manifests/kube-scheduler.yaml " +
            "(without it: every check that creates a pod: new pods stay Pending)",
        }));
        Assert.That(report.Observations, Does.Contain("etcd is healthy (http://127.0.0.1:2381/health: {\"health\":\"true\"})"));
    }

    [Test]
    public void The_same_crash_loop_on_a_docker_node_reads_the_exit_code_from_docker()
    {
        var output = SchedulerCrashLooping.Replace("@@diag runtime crictl", "@@diag runtime docker")
            .Replace(Crictl120SchedulerCrashLooping, Docker2010SchedulerCrashLooping).Replace("    \"exitCode\": 1,", "1")
            .Replace("5f6d2a7c1e3b9", "4c1d2e3f4a5b");
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(output), Profile);

        var scheduler = report.Problems.Single(p => p.Component == "kube-scheduler");
        Assert.That(scheduler.Problem, Is.EqualTo("crash-looping (exited with code 1, 5 restarts): last error in its log \"Error: unknown flag: --bogus\""));
        Assert.That(scheduler.WhereToLook, Does.StartWith("look at `docker ps -a --filter name=k8s_kube-scheduler_` and `docker logs 4c1d2e3f4a5b` on m-k8s"));
    }

    [Test]
    public void A_healthy_control_plane_has_no_problem_and_says_the_api_is_ready_there()
    {
        var output = SchedulerCrashLooping.Replace(
            Component("kube-scheduler", "present", Crictl120SchedulerCrashLooping, "    \"exitCode\": 1,",
                "      --vmodule moduleSpec                                       comma-separated list of pattern=N settings for file-filtered logging",
                "Error: unknown flag: --bogus", "5f6d2a7c1e3b9"),
            Running("kube-scheduler", "5f6d2a7c1e3b9"));
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(output), Profile);

        Assert.That(report.Problems, Is.Empty);
        Assert.That(report.Observations, Does.Contain(
            "the API server is ready on m-k8s itself (https://127.0.0.1:6443/readyz?verbose: all 2 checks ok): the address used from here does not reach it"));
    }

    [Test]
    public void An_api_server_that_hangs_on_the_control_plane_itself_is_named()
    {
        var output = EtcdStopped.Replace("@@diag manifest missing", "@@diag manifest present")
            .Replace($"{Readyz118EtcdDown}\n@@diag http 500\n@@diag curl 0", "curl: (28) Operation timed out after 5001 milliseconds with 0 bytes received\n\n@@diag http 000\n@@diag curl 28");
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(output), Profile);

        // etcd: its manifest is there but crictl lists no container.
        Assert.That(report.Problems.Select(p => p.Component), Is.EqualTo(new[] { "etcd", "kube-apiserver" }));
        Assert.That(report.Problems[0].Problem, Is.EqualTo("not running: /etc/kubernetes/manifests/etcd.yaml is present but `crictl ps -a` shows no etcd container"));
        Assert.That(report.Problems[1].Problem, Does.StartWith("running but hangs: https://127.0.0.1:6443/readyz?verbose gave no answer within 5 s on m-k8s itself"));
    }

    [Test]
    public void A_stopped_kubelet_on_the_control_plane_is_named_first()
    {
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(EtcdStopped.Replace("@@diag kubelet active", "@@diag kubelet inactive")), Profile);
        Assert.That(report.Problems.Select(p => p.Component), Is.EqualTo(new[] { "kubelet", "etcd" }));
        Assert.That(report.Problems[0].ToString(), Does.StartWith("kubelet on m-k8s: not active on the control plane (`systemctl is-active kubelet`: inactive)"));
    }

    [Test]
    public void Without_runtime_or_api_only_observations_are_made_and_nothing_is_guessed()
    {
        var output = "@@diag runtime none\n@@diag kubelet \n" + Component("kube-apiserver", "present") + Component("etcd", "present") +
                     "@@diag readyz https://127.0.0.1:6443/readyz?verbose\ncurl: (7) Failed to connect to 127.0.0.1 port 6443: Connection refused\n\n@@diag http 000\n@@diag curl 7\n" +
                     EtcdRefused + "@@diag end\n";
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse(output), Profile);

        Assert.That(report.Problems, Is.Empty);
        Assert.That(report.ToString(), Is.EqualTo(
            "seen on m-k8s: no container runtime CLI answered (crictl, docker); /etc/kubernetes/manifests/kube-apiserver.yaml is present; " +
            "/etc/kubernetes/manifests/etcd.yaml is present; nothing answers https://127.0.0.1:6443/readyz?verbose on m-k8s (connection refused); " +
            "etcd's http://127.0.0.1:2381/health gave connection refused"));
    }

    [Test]
    public void An_output_cut_short_says_so()
    {
        var report = ControlPlaneDiagnosis.Judge(ControlPlaneEvidence.Parse("@@diag runtime crictl\n@@diag kubelet active\n@@diag component kube-apiserver\n"), Profile);
        Assert.That(report.Observations[0], Is.EqualTo("the diagnosis script on m-k8s stopped before its end (see the evidence)"));
    }

    [TestCase("curl -fsk --max-time 5 https://127.0.0.1:6443/readyz", "https://127.0.0.1:6443/readyz?verbose")]
    [TestCase("curl -fsk https://10.0.0.5:8443/livez", "https://10.0.0.5:8443/readyz?verbose")]
    [TestCase("test -f /etc/kubernetes/manifests/kube-apiserver.yaml", "https://127.0.0.1:6443/readyz?verbose")]
    public void The_readyz_address_follows_the_profiles_health_command(string health, string readyz)
    {
        var profile = ProfileLoader.Parse($"controlPlane: m-k8s\nworkers: [w1-k8s]\ndiscovery: {{mode: vagrant, vagrantDirectory: .}}\ncomponents:\n  health:\n    kube-apiserver: {health}\n", "/tmp/p.yaml");
        Assert.That(ControlPlaneDiagnosis.Endpoints(profile), Is.EqualTo((readyz, "http://127.0.0.1:2381/health")));
    }
}
