using Harness.Profiles;
using Harness.Waits;
using NUnit.Framework;

namespace Harness.Tests.Waits;

/// <summary>The profile's <c>timeouts</c> section (whole seconds) as the durations the code waits with.</summary>
public class TimeoutsTests
{
    [Test]
    public void Every_seconds_setting_becomes_the_duration_of_the_same_name()
    {
        // A distinct value per setting, so a duration read from the wrong setting shows.
        var settings = new TimeoutSettings();
        var secondsSettings = typeof(TimeoutSettings).GetProperties().Where(p => p.PropertyType == typeof(int)).ToList();
        for (var i = 0; i < secondsSettings.Count; i++) secondsSettings[i].SetValue(settings, 100 + i);

        var timeouts = settings.ToTimeouts();

        Assert.Multiple(() =>
        {
            foreach (var seconds in secondsSettings)
            {
                var name = seconds.Name[..^"Seconds".Length];
                var duration = typeof(Timeouts).GetProperty(name);
                Assert.That(duration, Is.Not.Null, $"timeouts.{seconds.Name} has no duration {name} in Harness.Waits.Timeouts");
                Assert.That(duration?.GetValue(timeouts), Is.EqualTo(TimeSpan.FromSeconds((int)seconds.GetValue(settings)!)), seconds.Name);
            }
        });
        Assert.That(typeof(Timeouts).GetProperties(), Has.Length.EqualTo(secondsSettings.Count), "no duration without its setting");
    }
}
