namespace Harness.Reporting;

/// <summary>Whose time a check's step is: the book's (its commands and the waits its narrative needs), the harness's
/// own work around them, or time queued for nodes other checks hold.</summary>
public enum StepPart { Book, Harness, Queued }

/// <summary>How a step's part is written into the Allure result: a step parameter <c>part</c> (book steps carry none).</summary>
public static class StepParts
{
    public const string ParameterName = "part";

    public static string NameOf(StepPart part) => part switch
    {
        StepPart.Harness => "harness",
        StepPart.Queued => "queued",
        _ => "book",
    };

    public static StepPart Of(StepResult step) =>
        step.Parameters.FirstOrDefault(p => p.Name == ParameterName)?.Value switch
        {
            "harness" => StepPart.Harness,
            "queued" => StepPart.Queued,
            _ => StepPart.Book,
        };
}
