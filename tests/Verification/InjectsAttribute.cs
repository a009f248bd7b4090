using System.Reflection;
using Harness.Profiles;

namespace Verification;

/// <summary>
/// Declares a fault a check injects, for the dry run (<c>safety.dryRun=true</c>), which lists every check's faults
/// and injects nothing. <paramref name="on"/> is <c>worker</c> (the first worker that is a fault target),
/// <c>last worker</c> (the book's w3-k8s) or a literal; <c>{name}</c> in the commands is the profile's command of that name.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class InjectsAttribute(string fault, string on, string inject, string revert) : Attribute
{
    public string Fault { get; } = fault;
    public string On { get; } = on;
    public string Inject { get; } = inject;
    public string Revert { get; } = revert;

    public string Describe(ClusterProfile profile)
    {
        var node = On switch
        {
            "worker" => profile.Workers.FirstOrDefault(profile.FaultTargets.Contains) ?? "(no worker is a fault target)",
            "last worker" => profile.Workers.LastOrDefault(profile.FaultTargets.Contains) ?? "(no worker is a fault target)",
            _ => On.Replace("{pod}", profile.Edition.NginxPod),
        };
        return $"{Resolve(Fault, profile, node)} on {node}: `{Resolve(Inject, profile, node)}` — revert: `{Resolve(Revert, profile, node)}`";
    }

    private static string Resolve(string text, ClusterProfile profile, string node)
    {
        foreach (var property in typeof(FaultCommands).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            text = text.Replace("{" + char.ToLowerInvariant(property.Name[0]) + property.Name[1..] + "}", (string)property.GetValue(profile.Commands)!);
        return text.Replace("{node}", node).Replace("{namespace}", profile.Kubernetes.Namespace).Replace("{pod}", profile.Edition.NginxPod);
    }
}
