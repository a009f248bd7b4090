using Harness.ClusterAccess;
using Harness.Diagnosis;
using Harness.Kube;
using Harness.Nodes;
using Harness.Profiles;
using Harness.IntegrationTests.Support;
using NUnit.Framework;

namespace Harness.IntegrationTests.Safety.Diagnosis;

/// <summary>
/// The diagnosis script in a real shell over a real sshd on loopback (the "control plane"): a temp folder stands in for
/// /etc/kubernetes/manifests, and stand-in crictl, docker, curl and systemctl first on the script's PATH answer as a
/// kubeadm control plane does with etcd's manifest moved away and kube-scheduler crash-looping on a bad flag.
/// </summary>
[TestFixture]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ControlPlaneDiagnosisOverSshTests
{
    private SshdServer _sshd = null!;
    private string _temp = null!;
    private NodeShell _shell = null!;
    private NodeShell _sudoShell = null!;

    private string Manifests => Path.Combine(_temp, "manifests");

    [OneTimeSetUp]
    public async Task StartSshd()
    {
        _sshd = await SshdServer.StartAsync();
        _temp = Directory.CreateTempSubdirectory("diagnosis-ssh-").FullName;
        Directory.CreateDirectory(Manifests);
        foreach (var c in new[] { "kube-apiserver", "kube-scheduler", "kube-controller-manager" })
            File.WriteAllText(Path.Combine(Manifests, c + ".yaml"), $"# {c}\n"); // etcd.yaml: moved away

        var crictl = Directory.CreateDirectory(Path.Combine(_temp, "crictl-bin")).FullName;
        Script(crictl, "crictl", """
            # stand-in for cri-tools 1.2x on containerd: `ps` (is the runtime there), `ps -a --name C`, `inspect ID`, `logs --tail N ID`
            header='CONTAINER           IMAGE               CREATED             STATE               NAME                      ATTEMPT             POD ID'
            case "$1" in
              ps)
                echo "$header"
                [ "$2" = -a ] || exit 0
                case "$4" in
                  kube-apiserver) echo '9a1b2c3d4e5f6       6d3ffc2696ac2       3 minutes ago       Running             kube-apiserver            0                   7e8f9a0b1c2d3' ;;
                  kube-scheduler) echo '5f6d2a7c1e3b9       a8c2fdb8bf76e       25 seconds ago      Exited              kube-scheduler            5                   0c6a7b6c1d2e8'
                                  echo '0b1c2d3e4f5a6       a8c2fdb8bf76e       2 minutes ago       Exited              kube-scheduler            4                   0c6a7b6c1d2e8' ;;
                  kube-controller-manager) echo '1d2e3f4a5b6c7       b9f2e1d0c3a4b       3 minutes ago       Running             kube-controller-manager   0                   2a3b4c5d6e7f8' ;;
                esac ;;
              inspect) case "$2" in 5f6d2a7c1e3b9) code=1 ;; *) code=0 ;; esac
                       printf '{\n  "status": {\n    "id": "%s",\n    "state": "CONTAINER_EXITED",\n    "exitCode": %s,\n    "reason": "Error"\n  }\n}\n' "$2" "$code" ;;
              logs) case "$4" in
                      5f6d2a7c1e3b9) printf 'Error: unknown flag: --bogus\nUsage:\n  kube-scheduler [flags]\n\nLogs flags:\n      --logtostderr                      log to standard error instead of files (default true)\n      --vmodule pattern=N,...   comma-separated list of pattern=N settings for file-filtered logging\n' ;;
                      *) echo 'I1205 17:02:11.000000       1 server.go:100] serving securely on 127.0.0.1:10259' ;;
                    esac ;;
            esac
            """);
        var docker = Directory.CreateDirectory(Path.Combine(_temp, "docker-bin")).FullName;
        Script(docker, "crictl", "echo 'crictl: connect: connect endpoint unix:///var/run/dockershim.sock: permission denied' >&2; exit 1");
        Script(docker, "docker", """
            # stand-in for docker 20.10 with dockershim's k8s_CONTAINER_POD_NAMESPACE_UID_ATTEMPT names
            case "$1" in
              ps)
                echo 'CONTAINER ID   IMAGE          COMMAND                  CREATED          STATUS                      PORTS     NAMES'
                [ "$2" = -a ] || exit 0
                case "$4" in
                  name=k8s_kube-apiserver_) echo '8f7e6d5c4b3a   a595af0107f9   "kube-apiserver --ad…"   3 hours ago      Up 3 hours                            k8s_kube-apiserver_kube-apiserver-m-k8s_kube-system_2d8f0a1b3c4d5e6f7a8b9c0d1e2f3a4b_0' ;;
                  name=k8s_kube-scheduler_) echo '4c1d2e3f4a5b   a05a1a79adaa   "kube-scheduler --au…"   28 seconds ago   Exited (1) 27 seconds ago             k8s_kube-scheduler_kube-scheduler-m-k8s_kube-system_7a4d1e2f3b4c5d6e7f8a9b0c1d2e3f4a_5' ;;
                  name=k8s_kube-controller-manager_) echo '6a5b4c3d2e1f   b0f8a1c2d3e4   "kube-controller-man…"   3 hours ago      Up 3 hours                            k8s_kube-controller-manager_kube-controller-manager-m-k8s_kube-system_5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b_0' ;;
                esac ;;
              inspect) [ "$3" = '{{.State.ExitCode}}' ] || { echo "unexpected format $3" >&2; exit 2; }
                       case "$4" in 4c1d2e3f4a5b) echo 1 ;; *) echo 0 ;; esac ;;
              logs) case "$4" in 4c1d2e3f4a5b) printf 'Error: unknown flag: --bogus\nUsage:\n  kube-scheduler [flags]\n' ;; *) echo 'I1205 serving' ;; esac ;;
            esac
            """);
        foreach (var bin in new[] { crictl, docker })
        {
            Script(bin, "systemctl", "[ \"$1 $2\" = 'is-active kubelet' ] && echo active");
            Script(bin, "curl", """
                # stand-in: kube-apiserver 1.20 without etcd (HTTP 500), nothing on etcd's metrics port; honours -w like curl
                w=; prev=; url=
                for a; do [ "$prev" = -w ] && w=$a; prev=$a; url=$a; done
                case "$url" in
                  *readyz*) printf '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check failed\n'
                            printf "$(echo "$w" | sed 's/%{http_code}/500/')" ;;
                  *) echo "curl: (7) Failed to connect to 127.0.0.1 port 2381 after 0 ms: Connection refused" >&2
                     printf "$(echo "$w" | sed 's/%{http_code}/000/')"; exit 7 ;;
                esac
                """);
        }

        var endpoint = new NodeEndpoint("m-k8s", "127.0.0.1", _sshd.Port, "root", new NodeCredentials(privateKeyPath: _sshd.UserKeyPath)) { Origin = "test" };
        _shell = await NodeShell.ConnectAsync(endpoint, new HostKeyStore(Path.Combine(_temp, "known_hosts.json")), TimeSpan.FromSeconds(5));
        // The book's login: vagrant with passwordless sudo; the script then runs inside `sudo -n sh -c '…'`.
        var sudo = new NodeEndpoint("m-k8s", "127.0.0.1", _sshd.Port, _sshd.SudoUser.Name,
            new NodeCredentials(password: _sshd.SudoUser.Password, passwordSource: "test")) { Origin = "test" };
        _sudoShell = await NodeShell.ConnectAsync(sudo, new HostKeyStore(Path.Combine(_temp, "known_hosts.json")), TimeSpan.FromSeconds(5));
    }

    private static void Script(string bin, string name, string body)
    {
        var path = Path.Combine(bin, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                   UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    [OneTimeTearDown]
    public async Task StopSshd()
    {
        if (_shell is not null) await _shell.DisposeAsync();
        if (_sudoShell is not null) await _sudoShell.DisposeAsync();
        if (_sshd is not null) await _sshd.DisposeAsync();
        if (_temp is not null) Directory.Delete(_temp, recursive: true);
    }

    private ClusterProfile Profile() => ProfileLoader.Parse(
        $"controlPlane: m-k8s\nworkers: [w1-k8s]\ndiscovery: {{mode: vagrant, vagrantDirectory: .}}\ncomponents:\n  manifestsDirectory: {Manifests}\n",
        Path.Combine(_temp, "p.yaml"));

    [TestCase("crictl-bin", "crictl logs 5f6d2a7c1e3b9", false)]
    [TestCase("docker-bin", "docker logs 4c1d2e3f4a5b", false)]
    [TestCase("crictl-bin", "crictl logs 5f6d2a7c1e3b9", true)]
    public async Task One_ssh_round_trip_names_etcd_and_the_crash_looping_scheduler(string bin, string logs, bool throughSudo)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = await ControlPlaneDiagnosis.ReadAsync(throughSudo ? _sudoShell : _shell, Profile(), CancellationToken.None, extraPath: Path.Combine(_temp, bin));
        TestContext.Out.WriteLine($"{clock.Elapsed.TotalSeconds:0.00} s\n{string.Join("\n", report.Problems)}\n{report.Evidence}");

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
        Assert.That(report.Problems.Select(p => p.Component), Is.EqualTo(new[] { "etcd", "kube-scheduler" }));
        Assert.That(report.Problems[0].Problem, Is.EqualTo(
            $"not running: {Manifests}/etcd.yaml is missing; the API server answers but /readyz says [-]etcd failed: reason withheld"));
        Assert.That(report.Problems[1].Problem, Is.EqualTo("crash-looping (exited with code 1, 5 restarts): last error in its log \"Error: unknown flag: --bogus\""));
        Assert.That(report.Problems[1].WhereToLook, Does.Contain(logs));
        Assert.That(report.Observations, Does.Contain("kube-apiserver is running (attempt 0)").And.Contain("kube-controller-manager is running (attempt 0)"));
        Assert.That(report.Evidence, Does.Contain("[-]etcd failed: reason withheld").And.Contain("@@diag end"));
    }

    [Test]
    public async Task A_script_that_outlives_its_time_limit_is_a_report_that_says_so()
    {
        var slow = Directory.CreateDirectory(Path.Combine(_temp, "slow-bin")).FullName;
        Script(slow, "crictl", "sleep 5");
        var report = await ControlPlaneDiagnosis.ReadAsync(_shell, Profile(), CancellationToken.None, TimeSpan.FromSeconds(2), slow);

        Assert.That(report.Problems, Is.Empty);
        Assert.That(report.Observations, Is.EqualTo(new[] { "the diagnosis script on m-k8s did not finish within 2 s" }));
    }

    [Test]
    public async Task Connecting_to_an_api_that_does_not_answer_names_the_api_servers_missing_manifest_as_cluster_health()
    {
        // A second manifests folder without kube-apiserver.yaml; admin.conf points at a port where nothing listens.
        var manifests = Directory.CreateDirectory(Path.Combine(_temp, "manifests-no-apiserver")).FullName;
        File.WriteAllText(Path.Combine(manifests, "etcd.yaml"), "# etcd\n");
        var kubeconfig = Path.Combine(_temp, "admin.conf");
        UnreachableApiKubeconfig.Write(kubeconfig, "test CA");
        var yaml = $$"""
            name: diagnosis
            discovery:
              mode: static
              nodes:
                - {name: m-k8s, host: 127.0.0.1, port: {{_sshd.Port}}}
                - {name: w1-k8s, host: 127.0.0.1, port: {{_sshd.Port}}}
            login: {user: root, privateKey: {{_sshd.UserKeyPath}}, knownHostsFile: {{Path.Combine(_temp, "known_hosts.json")}}}
            controlPlane: m-k8s
            workers: [w1-k8s]
            kubernetes: {adminKubeconfig: {{kubeconfig}}}
            timeouts: {connectSeconds: 5}
            components:
              manifestsDirectory: {{manifests}}
              controlPlane: [kube-apiserver, etcd]

            """;
        var profile = ProfileLoader.Parse(yaml, Path.Combine(_temp, "diagnosis.yaml"));
        var nodes = await NodeAccess.ConnectAsync(profile, null, CancellationToken.None);

        var e = await Assert.ThrowsAsync<ClusterUnhealthyException>(() => Cluster.ConnectAsync(nodes, null, CancellationToken.None));
        TestContext.Out.WriteLine(e!.Message);

        Assert.That(e!.Problems()[0], Does.StartWith($"kube-apiserver on m-k8s: not running: {manifests}/kube-apiserver.yaml is missing — put the manifest back into {manifests} on m-k8s"));
        Assert.That(e.Problems()[^1], Does.StartWith("the Kubernetes API at https://127.0.0.1:").And.Contain("did not answer"));
        Assert.That(e.Problems(), Has.Count.EqualTo(2), "etcd's manifest is there: nothing else is named");
    }
}
