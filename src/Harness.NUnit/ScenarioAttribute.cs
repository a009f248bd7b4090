using NUnit.Framework;

namespace Harness.NUnitAdapter;

/// <summary>
/// The check's id in the book's scenario catalogue (DESIGN.md: S1 … S9), as the NUnit property <c>Scenario</c>.
/// <see cref="AllureNUnitAttribute"/> records it as the result's Allure <c>story</c> label (the Behaviors view:
/// epic → feature, the component → story, the scenario; searchable as <c>story:S3</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ScenarioAttribute(string id) : PropertyAttribute(PropertyName, id)
{
    public const string PropertyName = "Scenario";
}
