namespace Harness.IntegrationTests.Support;

/// <summary>
/// An admin.conf for a loopback "control plane": its CA embedded (so the cluster has a fingerprint, as a kubeadm one
/// does) and a server address where no API answers.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class UnreachableApiKubeconfig
{
    public static void Write(string path, string caName) =>
        File.WriteAllText(path, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: lab
              cluster:
                server: https://127.0.0.1:{{SshdServer.FreePort()}}
                certificate-authority-data: {{Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"-----BEGIN CERTIFICATE-----\n{caName}\n-----END CERTIFICATE-----\n"))}}
            contexts:
            - name: lab
              context: {cluster: lab, user: admin}
            current-context: lab
            users:
            - name: admin
              user: {token: not-a-real-token}

            """);
}
