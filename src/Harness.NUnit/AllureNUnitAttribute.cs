using System.Collections.Concurrent;
using System.Reflection;
using Harness.Reporting;
using TestResult = Harness.Reporting.TestResult;
using Harness.Text;
using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace Harness.NUnitAdapter;

/// <summary>
/// Records every NUnit test it decorates (put it on the assembly, a fixture or a method) as an Allure result,
/// mapped as Allure.NUnit does. Tests that NUnit never starts (an [Ignore] attribute, an explicit test) get no result:
/// NUnit does not run actions for them. <c>Assert.Ignore</c>/<c>Assume</c> inside a test do give a skipped/broken one.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class AllureNUnitAttribute : Attribute, ITestAction
{
    // Keyed by NUnit's test id. Static because NUnit forces it: it makes one instance of this attribute per place it
    // is put (assembly, fixture), runs BeforeTest outside the test's execution context, and gives a test no slot for
    // an object of ours, so the test (ScopeOf) can only find its result through the test id. It is also the guard
    // that makes the attribute on both the assembly and a fixture record a test once.
    private static readonly ConcurrentDictionary<string, (TestScope Scope, AllureNUnitAttribute Owner)> Running = new();

    private AllureWriter? _writer;

    public ActionTargets Targets => ActionTargets.Test;

    /// <summary>The run's results folder: the run parameter <c>allureResults</c>, else as <see cref="AllureResults.ResolveDirectory"/> says.</summary>
    public static AllureWriter RunResults() =>
        new(AllureResults.ResolveDirectory(TestContext.Parameters.Get(AllureResults.RunParameter)));

    public void BeforeTest(ITest test) => Begin(test, _writer ??= RunResults());

    public void AfterTest(ITest test)
    {
        var result = TestContext.CurrentContext.Result;
        End(test, result.Outcome, result.Message, result.StackTrace);
    }

    /// <summary>Starts the result for <paramref name="test"/>; null when another instance already records it.</summary>
    public TestScope? Begin(ITest test, AllureWriter writer)
    {
        lock (Running)
        {
            if (Running.ContainsKey(test.Id)) return null;
            var scope = Report.StartTest(ResultFor(test), writer, NUnitProgress.Write, NUnitOutcomes.StatusOf);
            scope.BeforeWrite = result => AddDefaultLabels(result, test);
            Running[test.Id] = (scope, this);
            return scope;
        }
    }

    /// <summary>Maps NUnit's outcome, writes the result and returns its path (null if this instance did not record the test).</summary>
    public string? End(ITest test, ResultState outcome, string? message, string? stackTrace)
    {
        (TestScope Scope, AllureNUnitAttribute Owner) entry;
        lock (Running)
        {
            if (!Running.TryGetValue(test.Id, out entry) || entry.Owner != this) return null;
            Running.TryRemove(test.Id, out _);
        }
        return entry.Scope.Stop(StatusOf(outcome), string.IsNullOrEmpty(message) ? null : message,
            string.IsNullOrEmpty(stackTrace) ? null : stackTrace);
    }

    /// <summary>The result being recorded for the NUnit test running here, if any: what a check hands to its context.</summary>
    public static TestScope? ScopeOfRunningTest()
    {
        try
        {
            var id = TestContext.CurrentContext.Test.ID;
            return id is not null && Running.TryGetValue(id, out var entry) ? entry.Scope : null;
        }
        catch (Exception) // no NUnit context on this thread (e.g. a background task outliving its test)
        {
            return null;
        }
    }

    /// <summary>Allure.NUnit's mapping: assertion failure → failed; error, cancel, inconclusive, warning → broken; skipped/ignored → skipped.</summary>
    public static Status StatusOf(ResultState outcome) => outcome.Status switch
    {
        TestStatus.Passed => Status.Passed,
        TestStatus.Skipped => Status.Skipped,
        TestStatus.Failed when outcome.Label is "" or "Failed" => Status.Failed,
        _ => Status.Broken,
    };

    /// <summary><c>Assembly:Namespace.Class.Method(ParamTypes)</c>, stable across runs and machines.</summary>
    public static string FullName(MethodInfo method)
    {
        var type = method.ReflectedType ?? method.DeclaringType!;
        var parameterTypes = string.Join(",", method.GetParameters().Select(p => TypeName(p.ParameterType)));
        return $"{type.Assembly.GetName().Name}:{TypeName(type)}.{method.Name}({parameterTypes})";
    }

    private static string TypeName(Type type)
    {
        var name = type.FullName ?? type.Name;
        if (!type.IsGenericType) return name;
        var plain = name[..name.IndexOf('`')];
        return $"{plain}<{string.Join(",", type.GetGenericArguments().Select(TypeName))}>";
    }

    private static TestResult ResultFor(ITest test)
    {
        var method = test.Method?.MethodInfo;
        var fullName = method is null ? test.FullName : FullName(method);
        var result = new TestResult
        {
            Name = test.Name,
            FullName = fullName,
            TestCaseId = AllureIds.Md5Hex(fullName),
            Description = test.Properties.Get(PropertyNames.Description) as string,
        };
        var parameterNames = method?.GetParameters() ?? [];
        for (var i = 0; i < test.Arguments.Length && i < parameterNames.Length; i++)
            result.Parameters.Add(new Parameter(parameterNames[i].Name ?? $"arg{i}", Harness.Text.Secrets.Redact(Format(test.Arguments[i]))));
        foreach (var category in Categories(test))
            result.Labels.Add(new Label(AllureLabels.Tag, category));
        if (test.Properties.Get(ScenarioAttribute.PropertyName) is string scenario)
            result.Labels.Add(new Label(AllureLabels.Story, scenario));
        return result;
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        string s => s,
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    // Outermost first, so a fixture's component category ("kubelet") comes before a test's own ("slow").
    private static List<string> Categories(ITest test)
    {
        var chain = new List<ITest>();
        for (var t = test; t is not null; t = t.Parent) chain.Insert(0, t);
        return chain.SelectMany(t => t.Properties[PropertyNames.Category].OfType<string>()).Distinct().ToList();
    }

    private static void AddDefaultLabels(TestResult result, ITest test)
    {
        var type = test.Method?.MethodInfo.ReflectedType ?? test.TypeInfo?.Type;
        var fixture = test.Parent;
        var fixtureDescription = fixture?.Properties.Get(PropertyNames.Description) as string;
        var thread = Thread.CurrentThread;
        var firstTag = result.Labels.Find(l => l.Name == AllureLabels.Tag)?.Value;
        AllureLabels.AddMissing(result,
            (AllureLabels.Host, Environment.MachineName),
            (AllureLabels.Thread, $"{Environment.ProcessId}-{thread.Name ?? "thread"}-{thread.ManagedThreadId}"),
            (AllureLabels.Language, "C#"),
            (AllureLabels.Framework, "NUnit"),
            (AllureLabels.Package, type?.FullName),
            (AllureLabels.TestClass, type?.FullName),
            (AllureLabels.TestMethod, test.MethodName),
            (AllureLabels.ParentSuite, type?.Assembly.GetName().Name),
            (AllureLabels.Suite, fixtureDescription ?? type?.Namespace),
            (AllureLabels.SubSuite, type?.Name),
            (AllureLabels.Feature, firstTag),
            (AllureLabels.Epic, AllureLabels.DefaultEpic),
            (AllureLabels.Severity, "normal"));
    }
}
