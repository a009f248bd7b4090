using k8s.Models;

namespace Harness.Tests.Kube;

/// <summary>Small builders for the API objects the book's scenarios produce.</summary>
internal static class KubeObjects
{
    /// <summary>A pod on the book's w3-k8s; <paramref name="controllerKind"/> null = a bare pod (kubectl run).</summary>
    public static V1Pod Pod(string ns, string name, string? controllerKind = null, bool mirror = false,
        bool emptyDir = false, string phase = "Running", string owner = "owner") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Annotations = mirror ? new Dictionary<string, string> { ["kubernetes.io/config.mirror"] = "abc" } : null,
            OwnerReferences = controllerKind is null
                ? null
                : [new V1OwnerReference { Kind = controllerKind, Name = owner, Uid = "o-uid", Controller = true }],
        },
        Spec = new V1PodSpec
        {
            NodeName = "w3-k8s",
            Containers = [new V1Container { Name = "c", Image = "i" }],
            Volumes = emptyDir ? [new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource() }] : null,
        },
        Status = new V1PodStatus { Phase = phase },
    };
}
