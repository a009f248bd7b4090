using System.Globalization;
using System.Text.RegularExpressions;

namespace Harness.Kube;

/// <summary>A Kubernetes version as components report it: <c>v1.18.20</c>, <c>1.18.4-0</c> (an RPM's), <c>1.36.0-1.1</c>
/// (a Debian package's), <c>v1.30.4+k3s1</c>; only major, minor and patch count.</summary>
public readonly partial record struct KubeVersion(int Major, int Minor, int Patch) : IComparable<KubeVersion>
{
    public static KubeVersion? Parse(string? text)
    {
        var m = VersionPattern().Match(text ?? "");
        return m.Success
            ? new KubeVersion(Number(m.Groups["major"].Value), Number(m.Groups["minor"].Value), Number(m.Groups["patch"].Value))
            : null;
    }

    private static int Number(string digits) => int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);

    public bool SameMinor(KubeVersion other) => Major == other.Major && Minor == other.Minor;

    /// <summary>How many minor versions this one is older than <paramref name="newer"/> (negative: newer). Kubernetes
    /// has had major 1 only; another major counts as far apart.</summary>
    public int MinorsBehind(KubeVersion newer) => Major == newer.Major ? newer.Minor - Minor : (newer.Major - Major) * 1000;

    public int CompareTo(KubeVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor != other.Minor ? Minor.CompareTo(other.Minor) : Patch.CompareTo(other.Patch);

    public static bool operator <(KubeVersion a, KubeVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(KubeVersion a, KubeVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(KubeVersion a, KubeVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(KubeVersion a, KubeVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"v{Major}.{Minor}.{Patch}";

    [GeneratedRegex(@"^\s*v?(?<major>\d+)\.(?<minor>\d+)\.(?<patch>\d+)")]
    private static partial Regex VersionPattern();
}
