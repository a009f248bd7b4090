using System.Text.RegularExpressions;
using System.Xml.Linq;
using Harness.Profiles;
using Harness.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Profiles;

/// <summary>
/// The profile is validated as a whole, driven by its classes: every numeric setting reflection finds in
/// <see cref="ClusterProfile"/> is tried at 0, below 0 and above its limit through the run parameters' dotted overrides.
/// A new numeric setting without limits fails <see cref="Every_numeric_setting_has_limits"/>.
/// </summary>
public class ProfileSchemaTests
{
    private static readonly string Root = AllureResults.RepositoryRoot() ?? throw new InvalidOperationException("no Verification.sln above the test binaries");
    private static readonly string ProfilesDirectory = Path.Combine(Root, "fixtures", "profiles");
    private const string SourcePath = "/profiles/tiny.yaml";

    // Valid, with every list of settings classes non-empty, so each numeric setting shows up with a value.
    private const string Minimal = """
        name: tiny
        discovery:
          mode: static
          nodes:
          - {name: cp, host: 10.0.0.1}
          - {name: w1, host: 10.0.0.2}
        login: {user: root}
        controlPlane: cp
        workers: [w1]
        faultTargets: [w1]
        """;

    private static ClusterProfile Parse(params (string Key, string Value)[] overrides) =>
        ProfileLoader.Parse(Minimal, SourcePath, overrides.ToDictionary(o => o.Key, o => o.Value));

    /// <summary>Each numeric setting of the minimal profile, by its dotted key (a list entry by its name), with its limits.</summary>
    private static IEnumerable<ProfileSchema.NumericSetting> Settings() => ProfileSchema.NumericSettings(Parse());

    /// <summary>0, a negative number, and one past each end of the setting's limits.</summary>
    private static IEnumerable<TestCaseData> OutOfLimits() =>
        from setting in Settings()
        let rule = setting.Rule!
        from value in new long[] { 0, -5, rule.Minimum - 1, (long)rule.Maximum + 1 }.Where(v => !rule.Allows(v)).Distinct()
        select new TestCaseData(setting.Key, value).SetName($"{setting.Key}={value} is refused naming the setting");

    private static IEnumerable<TestCaseData> AtTheLimits() =>
        from setting in Settings()
        from value in new[] { setting.Rule!.Minimum, setting.Rule!.Maximum }
        select new TestCaseData(setting.Key, value).SetName($"{setting.Key}={value} is accepted");

    [Test]
    public void Every_numeric_setting_has_limits()
    {
        var settings = ProfileSchema.NumericSettings();

        Assert.That(settings.Select(s => s.Key), Does.Contain("timeouts.podReadySeconds").And.Contain("timeouts.curlSeconds")
            .And.Contain("safety.leaseSeconds").And.Contain("discovery.nodes[].port"), "reflection finds them all, lists included");
        Assert.That(settings.Where(s => s.Rule is null).Select(s => $"{s.Key} ({s.Property.DeclaringType!.Name}.{s.Property.Name})"), Is.Empty,
            "give each numeric setting an [Allowed(…)] or [Seconds(…)] attribute in ClusterProfile.cs");
    }

    [Test]
    public void Every_numeric_setting_of_the_schema_is_tried_by_the_cases_below()
    {
        var tried = Settings().Select(s => Regex.Replace(s.Key, @"\[[^\]]*\]", "[]")).ToHashSet();

        Assert.That(ProfileSchema.NumericSettings().Select(s => s.Key), Is.SubsetOf(tried),
            "the minimal profile must give every list of settings an entry, or its numbers go untested");
    }

    [Test]
    public void Every_setting_named_seconds_is_a_duration_of_at_least_a_second() =>
        Assert.That(ProfileSchema.NumericSettings().Where(s => s.Property.Name.EndsWith("Seconds")).Select(s => (s.Key, s.Rule!.Minimum, s.Rule.What)),
            Has.All.Matches<(string Key, int Minimum, string What)>(s => s.Minimum >= 1 && s.What == "a number of seconds"));

    [TestCaseSource(nameof(OutOfLimits))]
    public void A_number_outside_its_limits_is_refused_in_one_line_naming_the_setting(string key, long value)
    {
        var rule = Settings().Single(s => s.Key == key).Rule!;

        var e = Assert.Throws<ProfileException>(() => Parse((key, value.ToString())))!;

        Assert.That(e.Message, Is.EqualTo(
            $"Profile {SourcePath} cannot be used: '{key}' is {value}; give {rule.What} from {rule.Minimum} to {rule.Maximum}."));
    }

    [TestCaseSource(nameof(AtTheLimits))]
    public void A_number_at_its_limits_is_accepted(string key, int value) =>
        Assert.That(ProfileSchema.NumericSettings(Parse((key, value.ToString()))).Single(s => s.Key == key).Value, Is.EqualTo(value));

    [Test]
    public void The_runs_example_timeouts_give_their_own_limits()
    {
        var e = Assert.Throws<ProfileException>(() => Parse(("timeouts.podReadySeconds", "-5"), ("timeouts.curlSeconds", "0")))!;

        Assert.That(e.Message, Is.EqualTo($"Profile {SourcePath} cannot be used: " +
            "'timeouts.podReadySeconds' is -5; give a number of seconds from 1 to 3600; " +
            "'timeouts.curlSeconds' is 0; give a number of seconds from 1 to 600."), "every problem at once, in one exception");
    }

    [Test]
    public void A_list_entry_is_overridden_by_its_name_or_position_as_validation_names_it()
    {
        var profile = Parse(("discovery.nodes[w1].port", "2222"), ("discovery.nodes[0].port", "2200"));

        Assert.That(profile.Discovery.Nodes.Select(n => (n.Name, n.Port)), Is.EqualTo(new[] { ("cp", 2200), ("w1", 2222) }));
    }

    [Test]
    public void An_override_of_a_list_entry_that_is_not_there_names_the_entries()
    {
        var e = Assert.Throws<ProfileException>(() => Parse(("discovery.nodes[w9].port", "2222")))!;

        Assert.That(e.Message, Is.EqualTo($"Profile {SourcePath}: the override discovery.nodes[w9].port names no entry of 'nodes' (entries: cp, w1)."));
    }

    [TestCase("book")]
    [TestCase("lab")]
    [TestCase("lab-revised")]
    [TestCase("revised")]
    public void Every_real_profile_is_within_the_limits(string name)
    {
        var profile = ProfileLoader.Load(name, ProfilesDirectory);

        Assert.That(ProfileSchema.NumberProblems(profile), Is.Empty);
    }

    [Test]
    public void Every_profile_file_is_one_of_the_cases_above() =>
        Assert.That(ProfileLoader.Available(ProfilesDirectory), Is.EquivalentTo(new[] { "book", "lab", "lab-revised", "revised" }),
            "add a new profile to Every_real_profile_is_within_the_limits");

    [Test]
    public void The_runsettings_profile_with_its_parameters_loads()
    {
        var parameters = XDocument.Load(Path.Combine(Root, "runsettings.xml")).Descendants("Parameter")
            .ToDictionary(p => (string)p.Attribute("name")!, p => (string)p.Attribute("value")!);
        var overrides = parameters.Where(p => p.Key != "profile").ToDictionary();

        var profile = ProfileLoader.Load(parameters["profile"], ProfilesDirectory, overrides);

        Assert.That(profile.Name, Is.EqualTo(parameters["profile"]));
    }
}
