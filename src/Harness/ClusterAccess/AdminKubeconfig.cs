using Harness.Faults;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Text;

namespace Harness.ClusterAccess;

/// <summary>The book copies /etc/kubernetes/admin.conf from the master; so do we, into a 0600 file removed at the end.</summary>
internal static class AdminKubeconfig
{
    /// <returns>The local copy's path, and the fingerprint of the cluster's CA in it.</returns>
    public static async Task<(string Path, string? CaFingerprint)> FetchAsync(ClusterProfile profile, INodeShell controlPlane, CancellationToken ct)
    {
        var remote = profile.Kubernetes.AdminKubeconfig;
        byte[] bytes;
        try { bytes = await controlPlane.DownloadAsync(remote, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One line saying why: over SFTP (root) the file is missing; through sudo the shell's stderr says what it could not open.
            var why = e switch
            {
                FileNotFoundException => "the file does not exist",
                NodeCommandFailedException { Result: var r } when !string.IsNullOrWhiteSpace(r.Stderr) =>
                    string.Join(" ", r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
                _ => e.Message.Split('\n')[0],
            };
            throw new ClusterUnreachableException(
                $"Infrastructure: {ClusterUnreachableException.Where(profile)}: no kubeconfig at {remote} on the control plane {profile.ControlPlane} " +
                $"({Secrets.Redact(why)}). Is this node really the control plane (kubeadm init done)? " +
                "Fix 'controlPlane' or 'kubernetes.adminKubeconfig' in the profile.", e);
        }
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        RegisterSecrets(text);
        var dir = Directory.CreateTempSubdirectory("verification-");
        var path = Path.Combine(dir.FullName, "admin.conf");
        await File.WriteAllBytesAsync(path, [], ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // 0600 before the key lands in it
        await File.WriteAllBytesAsync(path, bytes, ct);
        return (path, ClusterIdentity.CaFingerprintOf(text));
    }

    /// <summary>Removes the local copy and its folder.</summary>
    public static void Delete(string path)
    {
        try { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); } catch (IOException) { }
    }

    private static void RegisterSecrets(string kubeconfig)
    {
        foreach (var line in kubeconfig.Split('\n'))
        {
            var trimmed = line.Trim();
            foreach (var key in new[] { "client-key-data:", "token:", "password:" })
                if (trimmed.StartsWith(key, StringComparison.Ordinal)) Secrets.Register(trimmed[key.Length..].Trim());
        }
    }
}
