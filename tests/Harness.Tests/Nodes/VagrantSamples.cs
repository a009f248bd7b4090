namespace Harness.Tests.Nodes;

/// <summary>Output exactly as the real tools print it (the trailing blank line of ssh-config included).</summary>
internal static class VagrantSamples
{
    /// <summary>`vagrant ssh-config` in the book's ch3/3.1.3 (VirtualBox on Windows: quoted key paths with spaces).</summary>
    public const string BookVirtualBoxSshConfig = """
        Host m-k8s
          HostName 127.0.0.1
          User vagrant
          Port 60010
          UserKnownHostsFile /dev/null
          StrictHostKeyChecking no
          PasswordAuthentication no
          IdentityFile "C:/HashiCorp/Vagrant Projects/ch3/3.1.3/.vagrant/machines/m-k8s/virtualbox/private_key"
          IdentitiesOnly yes
          LogLevel FATAL

        Host w1-k8s
          HostName 127.0.0.1
          User vagrant
          Port 60101
          UserKnownHostsFile /dev/null
          StrictHostKeyChecking no
          PasswordAuthentication no
          IdentityFile "C:/HashiCorp/Vagrant Projects/ch3/3.1.3/.vagrant/machines/w1-k8s/virtualbox/private_key"
          IdentitiesOnly yes
          LogLevel FATAL

        Host w2-k8s
          HostName 127.0.0.1
          User vagrant
          Port 60102
          UserKnownHostsFile /dev/null
          StrictHostKeyChecking no
          PasswordAuthentication no
          IdentityFile "C:/HashiCorp/Vagrant Projects/ch3/3.1.3/.vagrant/machines/w2-k8s/virtualbox/private_key"
          IdentitiesOnly yes
          LogLevel FATAL

        Host w3-k8s
          HostName 127.0.0.1
          User vagrant
          Port 60103
          UserKnownHostsFile /dev/null
          StrictHostKeyChecking no
          PasswordAuthentication no
          IdentityFile "C:/HashiCorp/Vagrant Projects/ch3/3.1.3/.vagrant/machines/w3-k8s/virtualbox/private_key"
          IdentitiesOnly yes
          LogLevel FATAL


        """;

    /// <summary>`vagrant ssh-config` with Vagrant 2.3.4's docker provider (podman): container addresses, port 22, ssh-rsa options.</summary>
    public const string LabDockerSshConfig = """
        Host m-k8s
          HostName 192.168.1.10
          User vagrant
          Port 22
          UserKnownHostsFile /dev/null
          StrictHostKeyChecking no
          PasswordAuthentication no
          IdentityFile /root/lab/.vagrant/machines/m-k8s/docker/private_key
          IdentitiesOnly yes
          LogLevel FATAL
          PubkeyAcceptedKeyTypes +ssh-rsa
          HostKeyAlgorithms +ssh-rsa

        Host w1-k8s
          HostName 192.168.1.101
          User vagrant
          Port 22
          UserKnownHostsFile /dev/null
          StrictHostKeyChecking no
          PasswordAuthentication no
          IdentityFile /root/lab/.vagrant/machines/w1-k8s/docker/private_key
          IdentitiesOnly yes
          LogLevel FATAL
          PubkeyAcceptedKeyTypes +ssh-rsa
          HostKeyAlgorithms +ssh-rsa


        """;

    /// <summary>`vagrant status --machine-readable` in the book's ch3/3.1.3 with w2-k8s powered off.</summary>
    public const string BookVirtualBoxStatus = """
        1732557600,m-k8s,metadata,provider,virtualbox
        1732557600,w1-k8s,metadata,provider,virtualbox
        1732557600,w2-k8s,metadata,provider,virtualbox
        1732557600,w3-k8s,metadata,provider,virtualbox
        1732557601,m-k8s,provider-name,virtualbox
        1732557601,m-k8s,state,running
        1732557601,m-k8s,state-human-short,running
        1732557601,m-k8s,state-human-long,The VM is running. To stop this VM%!(VAGRANT_COMMA) you can run `vagrant halt` to\nshut it down forcefully%!(VAGRANT_COMMA) or you can run `vagrant suspend` to simply\nsuspend the virtual machine. In either case%!(VAGRANT_COMMA) to restart it again%!(VAGRANT_COMMA)\nsimply run `vagrant up`.
        1732557601,w1-k8s,provider-name,virtualbox
        1732557601,w1-k8s,state,running
        1732557601,w1-k8s,state-human-short,running
        1732557601,w1-k8s,state-human-long,The VM is running. To stop this VM%!(VAGRANT_COMMA) you can run `vagrant halt` to\nshut it down forcefully%!(VAGRANT_COMMA) or you can run `vagrant suspend` to simply\nsuspend the virtual machine. In either case%!(VAGRANT_COMMA) to restart it again%!(VAGRANT_COMMA)\nsimply run `vagrant up`.
        1732557602,w2-k8s,provider-name,virtualbox
        1732557602,w2-k8s,state,poweroff
        1732557602,w2-k8s,state-human-short,poweroff
        1732557602,w2-k8s,state-human-long,The VM is powered off. To restart the VM%!(VAGRANT_COMMA) simply run `vagrant up`
        1732557602,w3-k8s,provider-name,virtualbox
        1732557602,w3-k8s,state,running
        1732557602,w3-k8s,state-human-short,running
        1732557602,w3-k8s,state-human-long,The VM is running. To stop this VM%!(VAGRANT_COMMA) you can run `vagrant halt` to\nshut it down forcefully%!(VAGRANT_COMMA) or you can run `vagrant suspend` to simply\nsuspend the virtual machine. In either case%!(VAGRANT_COMMA) to restart it again%!(VAGRANT_COMMA)\nsimply run `vagrant up`.
        1732557602,,ui,info,Current machine states:\n\nm-k8s                     running (virtualbox)\nw1-k8s                    running (virtualbox)\nw2-k8s                    poweroff (virtualbox)\nw3-k8s                    running (virtualbox)\n\nThis environment represents multiple VMs. The VMs are all listed\nabove with their current state. For more information about a specific\nVM%!(VAGRANT_COMMA) run `vagrant status NAME`.

        """;

    /// <summary>`vagrant status --machine-readable` with the docker provider, all running.</summary>
    public const string LabDockerStatus = """
        1764100000,m-k8s,metadata,provider,docker
        1764100000,w1-k8s,metadata,provider,docker
        1764100001,m-k8s,provider-name,docker
        1764100001,m-k8s,state,running
        1764100001,m-k8s,state-human-short,running
        1764100001,m-k8s,state-human-long,The container is created and running. You can stop it using\n`vagrant halt`%!(VAGRANT_COMMA) see logs with `vagrant docker-logs`%!(VAGRANT_COMMA) and\nkill/destroy it with `vagrant destroy`.
        1764100001,w1-k8s,provider-name,docker
        1764100001,w1-k8s,state,running
        1764100001,w1-k8s,state-human-short,running
        1764100001,w1-k8s,state-human-long,The container is created and running. You can stop it using\n`vagrant halt`%!(VAGRANT_COMMA) see logs with `vagrant docker-logs`%!(VAGRANT_COMMA) and\nkill/destroy it with `vagrant destroy`.
        1764100001,,ui,info,Current machine states:\n\nm-k8s                     running (docker)\nw1-k8s                    running (docker)\n\nThis environment represents multiple VMs. The VMs are all listed\nabove with their current state. For more information about a specific\nVM%!(VAGRANT_COMMA) run `vagrant status NAME`.

        """;
}
