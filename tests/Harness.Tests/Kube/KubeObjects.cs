using k8s.Models;

namespace Harness.Tests.Kube;

/// <summary>Small builders for the API objects the book's scenarios produce.</summary>
internal static class KubeObjects
{
    public const string DeploymentUid = "d-uid";

    public static V1PodTemplateSpec Template(string image, string? hash = null)
    {
        var labels = new Dictionary<string, string> { ["app"] = "rollout-nginx" };
        if (hash is not null) labels["pod-template-hash"] = hash;
        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = labels },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "nginx", Image = image }] },
        };
    }

    public static V1Deployment Deployment(
        string image, long revision, bool paused = false, Dictionary<string, string>? annotations = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "rollout-nginx",
            NamespaceProperty = "default",
            Uid = DeploymentUid,
            Annotations = annotations ?? new Dictionary<string, string>
            {
                ["deployment.kubernetes.io/revision"] = revision.ToString(),
            },
        },
        Spec = new V1DeploymentSpec { Replicas = 3, Paused = paused, Template = Template(image) },
    };

    public static V1ReplicaSet ReplicaSet(long revision, string image, string hash, string? changeCause = null)
    {
        var annotations = new Dictionary<string, string>
        {
            ["deployment.kubernetes.io/revision"] = revision.ToString(),
            ["deployment.kubernetes.io/desired-replicas"] = "3",
            ["deployment.kubernetes.io/max-replicas"] = "4",
        };
        if (changeCause is not null) annotations["kubernetes.io/change-cause"] = changeCause;
        return new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"rollout-nginx-{hash}",
                NamespaceProperty = "default",
                Annotations = annotations,
                OwnerReferences = [new V1OwnerReference { Kind = "Deployment", Name = "rollout-nginx", Uid = DeploymentUid, Controller = true }],
            },
            Spec = new V1ReplicaSetSpec { Template = Template(image, hash) },
        };
    }

    /// <summary>The book's history after setting the missing image nginx:1.17.23: revisions 1, 2, 3.</summary>
    public static IReadOnlyList<V1ReplicaSet> BookHistory() =>
    [
        ReplicaSet(1, "nginx:1.15.12", "64dd56c7b5", "kubectl apply --filename=./rollout-nginx.yaml --record=true"),
        ReplicaSet(3, "nginx:1.17.23", "856f4c79c9", "kubectl set image deployment rollout-nginx nginx=nginx:1.17.23 --record=true"),
        ReplicaSet(2, "nginx:1.16.0", "8566d57f75", "kubectl set image deployment rollout-nginx nginx=nginx:1.16.0 --record=true"),
    ];

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
