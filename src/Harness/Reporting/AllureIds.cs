using System.Security.Cryptography;
using System.Text;

namespace Harness.Reporting;

/// <summary>Identifiers that keep one check on one line of the history across runs.</summary>
public static class AllureIds
{
    public static string Md5Hex(string text) =>
        Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// As Allure.NUnit: md5 of the test case id and the parameters that are not excluded (Allure 2.45+ and 3
    /// recompute it the same way from the file, so this only matters to older readers).
    /// </summary>
    public static string HistoryId(string testCaseId, IEnumerable<Parameter> parameters) =>
        Md5Hex(testCaseId + string.Concat(parameters.Where(p => !p.Excluded).OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"|{p.Name}={p.Value}")));
}

/// <summary>Allure's standard label names and the suite's defaults.</summary>
public static class AllureLabels
{
    public const string Epic = "epic", Feature = "feature", Story = "story", Severity = "severity", Tag = "tag";
    public const string ParentSuite = "parentSuite", Suite = "suite", SubSuite = "subSuite";
    public const string Host = "host", Thread = "thread", Language = "language", Framework = "framework";
    public const string Package = "package", TestClass = "testClass", TestMethod = "testMethod", Owner = "owner";

    public const string DefaultEpic = "Kubernetes chapter 3 checks";

    /// <summary>Adds each default only when the test set no label of that name itself.</summary>
    public static void AddMissing(TestResult result, params (string Name, string? Value)[] defaults)
    {
        lock (result)
            foreach (var (name, value) in defaults)
                if (!string.IsNullOrEmpty(value) && !result.Labels.Exists(l => l.Name == name))
                    result.Labels.Add(new Label(name, value));
    }
}
