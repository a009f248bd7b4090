using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace Harness.Kube;

/// <summary>A manifest that cannot be used. The message names the file and what is wrong.</summary>
public sealed class ManifestException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The book's manifests, kept as YAML files in a folder (the repository's fixtures/manifests) with <c>${NAME}</c>
/// placeholders filled from the profile and the check.
/// </summary>
public sealed partial class Manifests(string directory)
{
    public string Directory { get; } = directory;

    public T Load<T>(string file, IReadOnlyDictionary<string, string> values)
    {
        var text = Render(file, values);
        var path = Path.Combine(Directory, file);
        try { return KubernetesYaml.Deserialize<T>(text); }
        catch (Exception e) { throw new ManifestException($"Manifest {path} is not a valid {typeof(T).Name}: {e.Message.Split('\n')[0]}", e); }
    }

    /// <summary>The manifest's text with its placeholders filled, e.g. to put it on the control plane for <c>kubectl apply -f</c>.</summary>
    public string Render(string file, IReadOnlyDictionary<string, string> values)
    {
        var path = Path.Combine(Directory, file);
        if (!File.Exists(path))
            throw new ManifestException($"Manifest {path} is missing. Restore it from the repository (git checkout -- {Path.Combine("fixtures", "manifests", file)}).");
        return Placeholder().Replace(File.ReadAllText(path), m =>
            values.TryGetValue(m.Groups[1].Value, out var v) ? v
                : throw new ManifestException($"Manifest {path} uses ${{{m.Groups[1].Value}}}, which the check does not fill."));
    }

    /// <param name="pullSecret">images.pullSecret (<c>name</c> or <c>namespace/name</c>): the pod names the Secret, never its content.</param>
    public V1Pod Pod(string name, string image, string node, string? pullSecret = null) =>
        Load<V1Pod>("nginx-pod.yaml", new Dictionary<string, string>
            { ["NAME"] = name, ["IMAGE"] = image, ["NODE"] = node, ["PULL_SECRETS"] = PullSecrets(pullSecret) });

    public V1Deployment EchoHname(string image, int replicas, string? pullSecret = null) =>
        Load<V1Deployment>("echo-hname.yaml", new Dictionary<string, string>
            { ["IMAGE"] = image, ["REPLICAS"] = replicas.ToString(), ["PULL_SECRETS"] = PullSecrets(pullSecret) });

    public const string RolloutNginxFile = "rollout-nginx.yaml";

    /// <summary>The book's rollout-nginx.yaml as text, for <c>kubectl apply -f ./rollout-nginx.yaml</c> on the control plane.</summary>
    public string RolloutNginx(string image, int progressDeadlineSeconds, string? pullSecret = null) =>
        Render(RolloutNginxFile, new Dictionary<string, string>
            { ["IMAGE"] = image, ["PROGRESS_DEADLINE"] = progressDeadlineSeconds.ToString(), ["PULL_SECRETS"] = PullSecrets(pullSecret) });

    /// <summary>The Secret's name in the check's namespace, from images.pullSecret (<c>name</c> or <c>namespace/name</c>), or null.</summary>
    public static string? PullSecretName(string? pullSecret) =>
        string.IsNullOrWhiteSpace(pullSecret) ? null : pullSecret.Trim().Split('/')[^1];

    /// <summary>The manifests' <c>imagePullSecrets</c> value as flow YAML: <c>[]</c> (none) or <c>[{name: dockerhub}]</c>.</summary>
    private static string PullSecrets(string? pullSecret) =>
        PullSecretName(pullSecret) is { } name ? $"[{{name: {name}}}]" : "[]";

    [GeneratedRegex(@"\$\{([A-Z_]+)\}")]
    private static partial Regex Placeholder();
}
