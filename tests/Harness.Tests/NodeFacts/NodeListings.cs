namespace Harness.Tests.NodeFacts;

/// <summary>
/// What <see cref="Harness.Probes.NodeFacts.Script"/> prints on real nodes, section by section: `systemctl
/// list-unit-files` (systemd 219's two columns on CentOS 7, three on Ubuntu 24.04 and Debian 12), the first CNI file
/// as the CNI plugins' installers write it, `ip -o link` (one line per link, `\` where ip would break the line), `ip -4
/// route`, the two sysctls and br_netfilter's /sys/module state.
/// </summary>
internal static class NodeListings
{
    /// <summary>The book's worker: CentOS 7, CentOS's docker 1.13.1 (no docker.socket), Calico v3.9.4 with IPIP Always
    /// (sysnet4admin/IaC 172.16_net_calico.yaml), pod CIDR 172.16.0.0/16, two pods on the node.</summary>
    public const string CalicoV39BookWorker = """
        @@units
        docker.service                                disabled
        @@cni
        10-calico.conflist
        {
          "name": "k8s-pod-network",
          "cniVersion": "0.3.1",
          "plugins": [
            {
              "type": "calico",
              "log_level": "info",
              "datastore_type": "kubernetes",
              "nodename": "w1-k8s",
              "mtu": 1440,
              "ipam": {
                  "type": "calico-ipam"
              },
              "policy": {
                  "type": "k8s"
              },
              "kubernetes": {
                  "kubeconfig": "/etc/cni/net.d/calico-kubeconfig"
              }
            },
            {
              "type": "portmap",
              "snat": true,
              "capabilities": {"portMappings": true}
            }
          ]
        }
        @@bridges
        3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default \    link/ether 02:42:5c:1e:7b:9a brd ff:ff:ff:ff:ff:ff
        @@master docker0
        @@links
        1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
        2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\    link/ether 52:54:00:8a:fe:e6 brd ff:ff:ff:ff:ff:ff
        3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\    link/ether 08:00:27:3a:41:7c brd ff:ff:ff:ff:ff:ff
        3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default \    link/ether 02:42:5c:1e:7b:9a brd ff:ff:ff:ff:ff:ff
        4: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1440 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/ipip 0.0.0.0 brd 0.0.0.0
        7: cali12ab34cd56e@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1440 qdisc noqueue state UP mode DEFAULT group default \    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 0
        8: calib7f1c0e9a42@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1440 qdisc noqueue state UP mode DEFAULT group default \    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 1
        @@routes
        default via 10.0.2.2 dev eth0 proto dhcp metric 100
        10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.15 metric 100
        172.16.103.128/26 via 192.168.1.102 dev tunl0 proto bird onlink
        172.16.132.0/26 via 192.168.1.103 dev tunl0 proto bird onlink
        blackhole 172.16.221.128/26 proto bird
        172.16.221.129 dev cali12ab34cd56e scope link
        172.16.221.130 dev calib7f1c0e9a42 scope link
        172.16.171.64/26 via 192.168.1.10 dev tunl0 proto bird onlink
        172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1
        192.168.1.0/24 dev eth1 proto kernel scope link src 192.168.1.101 metric 101
        @@ip_forward
        1
        @@bridge-nf-call-iptables
        1
        @@br_netfilter
        loaded
        """;

    /// <summary>The same worker after the book's <c>modprobe -r br_netfilter; systemctl restart network</c>: initscripts
    /// turned forwarding off, and bridge-nf-call-iptables went with the module.</summary>
    public static readonly string CalicoV39BookWorkerAfterNetworkRestart = CalicoV39BookWorker
        .Replace("@@ip_forward\n1", "@@ip_forward\n0")
        .Replace("@@bridge-nf-call-iptables\n1\n", "@@bridge-nf-call-iptables\n")
        .Replace("@@br_netfilter\nloaded", "@@br_netfilter\nabsent");

    /// <summary>The revised edition's worker: Ubuntu 24.04, containerd 2.2 (containerd.service only), Calico v3.31.2 (its
    /// conflist as the install-cni init container writes it), one pod, no docker.</summary>
    public const string Calico331RevisedWorker = """
        @@units
        containerd.service                           enabled         enabled
        @@cni
        10-calico.conflist
        {
          "name": "k8s-pod-network",
          "cniVersion": "1.0.0",
          "plugins": [
            {
              "type": "calico",
              "log_level": "info",
              "log_file_path": "/var/log/calico/cni/cni.log",
              "datastore_type": "kubernetes",
              "nodename": "w1-k8s",
              "mtu": 0,
              "ipam": {
                  "type": "calico-ipam"
              },
              "policy": {
                  "type": "k8s"
              },
              "kubernetes": {
                  "kubeconfig": "/etc/cni/net.d/calico-kubeconfig"
              }
            },
            {
              "type": "bandwidth",
              "capabilities": {"bandwidth": true}
            },
            {
              "type": "portmap",
              "snat": true,
              "capabilities": {"portMappings": true}
            }
          ]
        }
        @@bridges
        @@links
        1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
        2: enp0s3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\    link/ether 08:00:27:b1:2c:3d brd ff:ff:ff:ff:ff:ff
        3: enp0s8: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\    link/ether 08:00:27:c4:5d:6e brd ff:ff:ff:ff:ff:ff
        4: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/ipip 0.0.0.0 brd 0.0.0.0
        6: cali5e0a9d1b2c3@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns cni-4f1a2b3c-5d6e-7f80-9a1b-2c3d4e5f6a7b
        @@routes
        default via 10.0.2.2 dev enp0s3 proto dhcp src 10.0.2.15 metric 100
        10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 metric 100
        172.16.103.64/26 via 192.168.1.102 dev tunl0 proto bird onlink
        blackhole 172.16.221.128/26 proto bird
        172.16.221.131 dev cali5e0a9d1b2c3 scope link
        172.16.171.0/26 via 192.168.1.10 dev tunl0 proto bird onlink
        192.168.1.0/24 dev enp0s8 proto kernel scope link src 192.168.1.101
        @@ip_forward
        1
        @@bridge-nf-call-iptables
        1
        @@br_netfilter
        loaded
        """;

    /// <summary>After the revised edition's <c>modprobe -r br_netfilter &amp;&amp; netplan apply</c>: systemd-networkd never
    /// turns forwarding off, only the module (and its sysctl) is gone.</summary>
    public static readonly string Calico331RevisedWorkerAfterNetplanApply = Calico331RevisedWorker
        .Replace("@@bridge-nf-call-iptables\n1\n", "@@bridge-nf-call-iptables\n")
        .Replace("@@br_netfilter\nloaded", "@@br_netfilter\nabsent");

    /// <summary>The lab's worker (fixtures/lab: lab-podnet writes 10-lab-bridge.conflist, the bridge plugin's cni0,
    /// containerd; br_netfilter built into this kernel), two pods on the bridge.</summary>
    public const string LabBridgeWorker = """
        @@units
        containerd.service                         enabled         enabled
        @@cni
        10-lab-bridge.conflist
        {
          "cniVersion": "0.4.0",
          "name": "lab-pod-net",
          "plugins": [
            { "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
              "ipam": { "type": "host-local", "ranges": [[{ "subnet": "172.16.1.0/24" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
            { "type": "portmap", "capabilities": { "portMappings": true } }
          ]
        }
        @@bridges
        4: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether 7a:d1:3e:5f:82:c4 brd ff:ff:ff:ff:ff:ff
        @@master cni0
        5: veth3f9c2a1b@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cni0 state UP mode DEFAULT group default \    link/ether 36:1e:9a:c2:07:5d brd ff:ff:ff:ff:ff:ff link-netnsid 0
        6: veth81d0b7e2@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cni0 state UP mode DEFAULT group default \    link/ether 8e:44:10:fb:6a:23 brd ff:ff:ff:ff:ff:ff link-netnsid 1
        @@links
        1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
        2: eth0@if31: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \    link/ether 9a:0c:51:3e:e2:10 brd ff:ff:ff:ff:ff:ff link-netnsid 0
        4: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether 7a:d1:3e:5f:82:c4 brd ff:ff:ff:ff:ff:ff
        5: veth3f9c2a1b@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cni0 state UP mode DEFAULT group default \    link/ether 36:1e:9a:c2:07:5d brd ff:ff:ff:ff:ff:ff link-netnsid 0
        6: veth81d0b7e2@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cni0 state UP mode DEFAULT group default \    link/ether 8e:44:10:fb:6a:23 brd ff:ff:ff:ff:ff:ff link-netnsid 1
        @@routes
        default via 192.168.1.1 dev eth0
        172.16.0.0/24 via 192.168.1.10 dev eth0
        172.16.1.0/24 dev cni0 proto kernel scope link src 172.16.1.1
        172.16.2.0/24 via 192.168.1.102 dev eth0
        192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.101
        @@ip_forward
        1
        @@bridge-nf-call-iptables
        1
        @@br_netfilter
        builtin
        """;

    /// <summary>The lab's worker with <c>LAB_CNI=routed</c> (fixtures/lab: lab-cni-node's install-cni writes
    /// 10-lab-routed.conflist, Debian's ptp plugin 1.1.1), two pods. The veth lines and the pods' /32 routes are what the
    /// ptp plugin of this machine made for two pods in a scratch network namespace
    /// (<c>172.16.1.2 dev vethffe36a56 scope host</c>); no bridge at all.</summary>
    public const string LabRoutedWorker = """
        @@units
        containerd.service                         enabled         enabled
        @@cni
        10-lab-routed.conflist
        {
          "cniVersion": "0.4.0",
          "name": "lab-pod-net",
          "plugins": [
            { "type": "ptp", "ipMasq": false,
              "ipam": { "type": "host-local", "ranges": [[{ "subnet": "172.16.1.0/24" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
            { "type": "portmap", "capabilities": { "portMappings": true } }
          ]
        }
        @@bridges
        @@links
        1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
        2: eth0@if31: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \    link/ether 9a:0c:51:3e:e2:10 brd ff:ff:ff:ff:ff:ff link-netnsid 0
        5: vethffe36a56@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \    link/ether 3a:d1:d9:59:61:3a brd ff:ff:ff:ff:ff:ff link-netnsid 1
        6: vethba6cca8d@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \    link/ether 8e:c7:7e:8c:0c:62 brd ff:ff:ff:ff:ff:ff link-netnsid 2
        @@routes
        default via 192.168.1.1 dev eth0 proto static metric 100
        172.16.0.0/24 via 192.168.1.10 dev eth0
        172.16.1.2 dev vethffe36a56 scope host
        172.16.1.3 dev vethba6cca8d scope host
        172.16.2.0/24 via 192.168.1.102 dev eth0
        192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.101
        @@ip_forward
        1
        @@bridge-nf-call-iptables
        1
        @@br_netfilter
        builtin
        """;
}
