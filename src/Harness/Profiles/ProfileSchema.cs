using System.Collections;
using System.Reflection;

namespace Harness.Profiles;

/// <summary>
/// The values a numeric profile setting may take, written on the setting itself. Every numeric setting needs one
/// (<see cref="SecondsAttribute"/> for durations); <see cref="ProfileSchema"/> finds them by reflection, so a new
/// setting cannot go unchecked.
/// </summary>
/// <param name="What">What the number is, as the message asks for it: "a number of seconds", "a TCP port".</param>
[AttributeUsage(AttributeTargets.Property)]
public class AllowedAttribute(int minimum, int maximum, string what) : Attribute
{
    public int Minimum { get; } = minimum;
    public int Maximum { get; } = maximum;
    public string What { get; } = what;

    public bool Allows(long value) => value >= Minimum && value <= Maximum;

    /// <summary>One line naming the setting as a run parameter names it, its value and what is allowed.</summary>
    public string Problem(string key, object value) => $"'{key}' is {value}; give {What} from {Minimum} to {Maximum}";
}

/// <summary>A duration in seconds. 0 is never allowed: curl's <c>--connect-timeout 0</c> means "no limit", and Polly
/// refuses a zero or negative timeout only once a check is already running.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecondsAttribute(int minimum, int maximum) : AllowedAttribute(minimum, maximum, "a number of seconds")
{
    /// <summary>For a <c>…Seconds</c> setting that declares no limits of its own: at least a second, at most a day.</summary>
    public static readonly SecondsAttribute Default = new(1, 24 * 3600);
}

/// <summary>
/// The profile's settings as its classes (<see cref="ClusterProfile"/> and the classes it holds) define them, walked by
/// reflection: each numeric setting with its dotted key, as a run parameter names it (<c>timeouts.podReadySeconds</c>;
/// an entry of a list by its name: <c>discovery.nodes[w1-k8s].port</c>), and its <see cref="AllowedAttribute"/>.
/// </summary>
public static class ProfileSchema
{
    /// <summary>A numeric setting: its dotted key, the property, its rule (null: none, a harness bug) and, when read
    /// from a profile, its value.</summary>
    public sealed record NumericSetting(string Key, PropertyInfo Property, AllowedAttribute? Rule, object? Value);

    /// <summary>Every numeric setting the schema has; an entry of a list shows as <c>[]</c> (<c>discovery.nodes[].port</c>).</summary>
    public static IReadOnlyList<NumericSetting> NumericSettings() => [.. Walk(typeof(ClusterProfile), null, "")];

    /// <summary>Every numeric setting of <paramref name="profile"/> with its value, list entries named.</summary>
    public static IReadOnlyList<NumericSetting> NumericSettings(ClusterProfile profile) => [.. Walk(typeof(ClusterProfile), profile, "")];

    /// <summary>The rule of a numeric property: its own attribute, else the default for a <c>…Seconds</c> setting.</summary>
    public static AllowedAttribute? RuleOf(PropertyInfo property) =>
        property.GetCustomAttribute<AllowedAttribute>()
        ?? (property.Name.EndsWith("Seconds", StringComparison.Ordinal) ? SecondsAttribute.Default : null);

    /// <summary>One line per numeric setting outside its limits.</summary>
    public static IEnumerable<string> NumberProblems(ClusterProfile profile)
    {
        foreach (var setting in NumericSettings(profile))
        {
            var rule = setting.Rule ?? throw new InvalidOperationException(
                $"Profile setting '{setting.Key}' ({setting.Property.DeclaringType?.Name}.{setting.Property.Name}) has no limits: " +
                "give it an [Allowed(…)] or [Seconds(…)] attribute in ClusterProfile.cs.");
            if (!rule.Allows(Convert.ToInt64(setting.Value)))
                yield return rule.Problem(setting.Key, setting.Value!);
        }
    }

    /// <summary>
    /// Walks the properties of <paramref name="type"/>: numbers are yielded, the profile's own classes and lists of them
    /// are entered. <paramref name="instance"/> null walks the types alone (every list as one <c>[]</c> entry).
    /// </summary>
    private static IEnumerable<NumericSetting> Walk(Type type, object? instance, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var key = prefix + char.ToLowerInvariant(property.Name[0]) + property.Name[1..];
            var value = instance is null ? null : property.GetValue(instance);
            var propertyType = property.PropertyType;
            if (IsNumber(propertyType))
                yield return new NumericSetting(key, property, RuleOf(property), value);
            else if (IsSettingsClass(propertyType))
            {
                if (instance is null || value is not null)
                    foreach (var inner in Walk(propertyType, value, key + ".")) yield return inner;
            }
            else if (ListEntryType(propertyType) is { } entryType && IsSettingsClass(entryType))
            {
                IEnumerable<(string Name, object? Entry)> entries = instance is null
                    ? [("", null)]
                    : ((IEnumerable?)value ?? Array.Empty<object>()).Cast<object?>().Where(e => e is not null).Select((e, i) => (EntryName(e, i), e));
                foreach (var (name, entry) in entries)
                    foreach (var inner in Walk(entryType, entry, $"{key}[{name}].")) yield return inner;
            }
        }
    }

    private static bool IsNumber(Type t) => t.IsPrimitive && t != typeof(bool) && t != typeof(char) || t == typeof(decimal);

    /// <summary>The profile's own classes (DiscoverySettings, TimeoutSettings, …), as opposed to strings, lists and dictionaries.</summary>
    private static bool IsSettingsClass(Type t) => t.IsClass && t.Namespace == typeof(ClusterProfile).Namespace && t.Assembly == typeof(ClusterProfile).Assembly;

    private static Type? ListEntryType(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) ? t.GetGenericArguments()[0] : null;

    /// <summary>A list entry by its <c>name</c> (a static node), else by its position.</summary>
    private static string EntryName(object? entry, int index) =>
        entry?.GetType().GetProperty("Name")?.GetValue(entry) is string { Length: > 0 } name ? name : index.ToString();
}
