using Harness.Profiles;
using Harness.Reporting;

namespace Harness.Tests.ClusterAccess;

/// <summary>The lab's profile with its three workers, as discovery finds them.</summary>
internal static class LabProfile
{
    public static readonly ClusterProfile Lab = ProfileLoader.Load("lab", Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "profiles"))
        .WithWorkers(["w1-k8s", "w2-k8s", "w3-k8s"]);
}
