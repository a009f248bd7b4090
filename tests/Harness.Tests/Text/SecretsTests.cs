using Harness.Text;
using NUnit.Framework;

namespace Harness.Tests.Text;

// Secrets is process-wide: every value registered here is unique, so no other test's text is masked by accident.
public class SecretsTests
{
    [Test]
    public void A_registered_secret_is_masked_wherever_it_appears()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        Secrets.Register(password);

        var redacted = Secrets.Redact($"sshpass -p {password} ssh root@m-k8s; echo {password}");

        Assert.That(redacted, Is.EqualTo("sshpass -p *** ssh root@m-k8s; echo ***"));
    }

    [Test]
    public void A_pem_private_key_is_masked_even_when_nobody_registered_it()
    {
        const string key = """
            -----BEGIN OPENSSH PRIVATE KEY-----
            b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
            QyNTUxOQAAACBvZXhhbXBsZWtleW1hdGVyaWFsZm9ydGVzdGluZ29ubHkAAAA=
            -----END OPENSSH PRIVATE KEY-----
            """;

        var redacted = Secrets.Redact($"cat ~/.ssh/id_ed25519\n{key}\ndone");

        Assert.That(redacted, Is.EqualTo("cat ~/.ssh/id_ed25519\n-----PRIVATE KEY ***-----\ndone"));
    }

    [Test]
    public void Kubeconfig_key_data_and_tokens_are_masked_but_the_rest_stays_readable()
    {
        const string kubeconfig = """
            users:
            - name: kubernetes-admin
              user:
                client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
                client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==
                token: eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.payload.signature
            server: https://192.168.1.10:6443
            """;

        var redacted = Secrets.Redact(kubeconfig);

        Assert.That(redacted, Does.Contain("    client-key-data: ***\n"));
        Assert.That(redacted, Does.Contain("    token: ***\n"));
        Assert.That(redacted, Does.Not.Contain("LS0tLS1CRUdJTiBSU0Eg").And.Not.Contain("eyJhbGci"));
        Assert.That(redacted, Does.Contain("- name: kubernetes-admin").And.Contain("server: https://192.168.1.10:6443"));
    }

    [Test]
    public void A_bearer_token_in_a_header_is_masked()
    {
        var redacted = Secrets.Redact("curl -H 'Authorization: Bearer abc.DEF-123_x~y+z/0==' https://10.0.0.1:6443/api");

        Assert.That(redacted, Is.EqualTo("curl -H 'Authorization: Bearer ***' https://10.0.0.1:6443/api"));
    }

    [Test]
    public void Values_shorter_than_four_characters_are_not_registered()
    {
        Secrets.Register("kq7"); // would otherwise mask every "kq7" in every report
        Secrets.Register("");
        Secrets.Register(null);

        Assert.That(Secrets.Redact("node kq7 is Ready"), Is.EqualTo("node kq7 is Ready"));
    }

    [Test]
    public void The_longest_secret_is_masked_first_so_no_tail_of_it_is_left()
    {
        var shorter = "pw-" + Guid.NewGuid().ToString("N")[..8];
        var longer = shorter + "-and-more";
        Secrets.Register(shorter);
        Secrets.Register(longer);

        Assert.That(Secrets.Redact($"password={longer}"), Is.EqualTo("password=***"));
    }

    [Test]
    public void Empty_text_stays_empty() =>
        Assert.That(Secrets.Redact(null), Is.EqualTo(""));
}
