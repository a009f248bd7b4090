using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Harness.Kube;

/// <summary>
/// images.pullSecret: a registry Secret the user created (<c>name</c> in <c>default</c>, or <c>namespace/name</c>). A
/// pod can only name a Secret of its own namespace and each check's namespace is made and deleted by the check, so the
/// Secret is copied into it (through the API, in memory: the harness writes credentials nowhere else) and pods the
/// harness creates name it in <c>imagePullSecrets</c>.
/// </summary>
public static class PullSecrets
{
    public const string DefaultNamespace = "default";

    private static readonly HashSet<string> RegistryTypes = ["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"];

    /// <summary>Where the user's Secret is: (namespace, name), or null when images.pullSecret is not set.</summary>
    public static (string Namespace, string Name)? Source(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting)) return null;
        var parts = setting.Trim().Split('/');
        return parts.Length == 2 ? (parts[0], parts[1]) : (DefaultNamespace, parts[^1]);
    }

    /// <summary>The copy made for <paramref name="ns"/>: same name, type and data; nothing else of the original.</summary>
    public static V1Secret CopyFor(V1Secret original, string ns) => new()
    {
        Metadata = new V1ObjectMeta { Name = original.Metadata.Name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "verification" } },
        Type = original.Type,
        Data = original.Data,
    };

    /// <summary>Copies the user's Secret into <paramref name="ns"/>; a missing Secret or one of another type stops the check naming the setting.</summary>
    public static async Task CopyAsync(IKubernetes api, string setting, string ns, CancellationToken ct)
    {
        if (Source(setting) is not var (sourceNs, name)) return;
        V1Secret original;
        try { original = await api.CoreV1.ReadNamespacedSecretAsync(name, sourceNs, cancellationToken: ct); }
        catch (HttpOperationException e) when ((int)e.Response.StatusCode == 404)
        {
            throw new InvalidOperationException(
                $"images.pullSecret '{setting}': there is no Secret {name} in namespace {sourceNs}; create it with " +
                $"kubectl create secret docker-registry {name} -n {sourceNs} --docker-server=https://index.docker.io/v1/ --docker-username=… --docker-password=…, " +
                "or leave images.pullSecret empty");
        }
        if (!RegistryTypes.Contains(original.Type ?? ""))
            throw new InvalidOperationException(
                $"images.pullSecret '{setting}': Secret {sourceNs}/{name} is of type {original.Type ?? "Opaque"}, not kubernetes.io/dockerconfigjson: kubelet cannot log in with it");
        if (sourceNs == ns) return; // already where the pods are
        var copy = CopyFor(original, ns);
        try { await api.CoreV1.CreateNamespacedSecretAsync(copy, ns, cancellationToken: ct); }
        catch (HttpOperationException e) when ((int)e.Response.StatusCode == 409)
        {
            await api.CoreV1.ReplaceNamespacedSecretAsync(copy, name, ns, cancellationToken: ct);
        }
    }
}
