using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harness.Reporting;

// The Allure 2 result format (what both Allure CLIs read), with Allure's own names so the writer can be
// swapped for Allure.NUnit where that package is served. Serialized camelCase; null fields are left out.

[JsonConverter(typeof(JsonStringEnumConverter<Status>))]
public enum Status
{
    [JsonStringEnumMemberName("passed")] Passed,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("broken")] Broken,
    [JsonStringEnumMemberName("skipped")] Skipped,
}

[JsonConverter(typeof(JsonStringEnumConverter<Stage>))]
public enum Stage
{
    [JsonStringEnumMemberName("scheduled")] Scheduled,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("finished")] Finished,
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("interrupted")] Interrupted,
}

[JsonConverter(typeof(JsonStringEnumConverter<ParameterMode>))]
public enum ParameterMode
{
    [JsonStringEnumMemberName("default")] Default,
    [JsonStringEnumMemberName("masked")] Masked,
    [JsonStringEnumMemberName("hidden")] Hidden,
}

public sealed record StatusDetails(string? Message = null, string? Trace = null)
{
    public bool Known { get; init; }
    public bool Muted { get; init; }
    public bool Flaky { get; init; }
}

/// <summary><see cref="Source"/> is the file name of the attachment inside the results folder.</summary>
public sealed record Attachment(string Name, string Source, string Type);

/// <summary><see cref="Excluded"/> keeps a parameter (e.g. a timing) out of the history key.</summary>
public sealed record Parameter(string Name, string Value, bool Excluded = false, ParameterMode Mode = ParameterMode.Default);

public sealed record Label(string Name, string Value);

/// <summary><see cref="Type"/> is <c>link</c>, <c>issue</c> or <c>tms</c>.</summary>
public sealed record Link(string Name, string Url, string Type = "link");

/// <summary>What a test, a step and a fixture have in common. Lists are appended to under a lock on the list.</summary>
public abstract record ExecutableItem
{
    public string Name { get; set; } = "";
    public Status? Status { get; set; }
    public StatusDetails? StatusDetails { get; set; }
    public Stage Stage { get; set; } = Stage.Running;
    public string? Description { get; set; }
    public long Start { get; set; }
    public long Stop { get; set; }
    public List<StepResult> Steps { get; init; } = [];
    public List<Attachment> Attachments { get; init; } = [];
    public List<Parameter> Parameters { get; init; } = [];
}

public sealed record StepResult : ExecutableItem;

public sealed record FixtureResult : ExecutableItem;

/// <summary>Written as <c>&lt;uuid&gt;-result.json</c>.</summary>
public sealed record TestResult : ExecutableItem
{
    public string Uuid { get; init; } = Guid.NewGuid().ToString();
    public string? HistoryId { get; set; }
    public string? TestCaseId { get; set; }
    public string FullName { get; set; } = "";
    public List<Label> Labels { get; init; } = [];
    public List<Link> Links { get; init; } = [];
}

/// <summary>Written as <c>&lt;uuid&gt;-container.json</c>: fixtures (set-up/tear-down) shared by the <see cref="Children"/> results.</summary>
public sealed record TestResultContainer
{
    public string Uuid { get; init; } = Guid.NewGuid().ToString();
    public string? Name { get; set; }
    public List<string> Children { get; init; } = [];
    public List<FixtureResult> Befores { get; init; } = [];
    public List<FixtureResult> Afters { get; init; } = [];
    public long Start { get; set; }
    public long Stop { get; set; }
}

/// <summary><c>executor.json</c>: who ran the suite (CI job or a person's machine).</summary>
public sealed record Executor(string Name, string Type = "local")
{
    public string? Url { get; init; }
    public int? BuildOrder { get; init; }
    public string? BuildName { get; init; }
    public string? BuildUrl { get; init; }
    public string? ReportName { get; init; }
    public string? ReportUrl { get; init; }
}

/// <summary>One entry of <c>categories.json</c>. Regexes must match the whole message (Allure 2 uses Java's <c>matches</c>).</summary>
public sealed record Category(string Name, IReadOnlyList<Status> MatchedStatuses)
{
    public string? Description { get; init; }
    public string? MessageRegex { get; init; }
    public string? TraceRegex { get; init; }
    public bool? Flaky { get; init; }
}

public static class AllureJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
