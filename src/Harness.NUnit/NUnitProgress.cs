using Harness.Reporting;
using NUnit.Framework;

namespace Harness.NUnitAdapter;

/// <summary>The harness's progress sink on NUnit's console.</summary>
public static class NUnitProgress
{
    /// <summary>
    /// Live console line, redacted and stamped with the time of day. <c>dotnet test</c> shows these lines as they are
    /// written only at console verbosity normal or above (./verify asks for it); at its default, minimal, it hides them.
    /// </summary>
    public static void Write(string message) => TestContext.Progress.WriteLine(Report.ProgressLine(message, DateTime.Now));
}
