using Harness.Reporting;
using Harness.Waits;
using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using NUnit.Framework.Internal.Commands;

namespace Harness.NUnitAdapter;

/// <summary>
/// How NUnit's verdicts and the harness's meet. A wait that ran out or a hold that broke (<see cref="WaitFailedException"/>)
/// is a failed expectation, as an assertion is: NUnit must report it Failed (the cluster did not recover), not Error (a harness
/// problem), and the report reads both alike.
/// </summary>
public static class NUnitOutcomes
{
    /// <summary>NUnit's own exceptions as Allure.NUnit reads them; null for the rest (the harness's rules decide).</summary>
    public static Status? StatusOf(Exception error) => error switch
    {
        AssertionException or MultipleAssertException => Status.Failed,
        IgnoreException => Status.Skipped,
        SuccessException => Status.Passed,
        _ => null,
    };

    /// <summary>
    /// The assertion failure NUnit should see for <paramref name="error"/> when it is a failed wait (same message,
    /// the wait as its inner exception); null otherwise. For set-up code, which NUnit runs outside
    /// <see cref="WaitTimeoutIsAFailureAttribute"/>: <c>catch (Exception e) when (AsAssertion(e) is { } f) { throw f; }</c>.
    /// </summary>
    public static AssertionException? AsAssertion(Exception error) =>
        Unwrap(error) is WaitFailedException failed ? new AssertionException(failed.Message, failed) : null;

    internal static Exception Unwrap(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        System.Reflection.TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        NUnitException { InnerException: { } inner } => Unwrap(inner),
        _ => error,
    };
}

/// <summary>
/// Put on an assembly (or a fixture, or a test): a test whose body ends with a failed wait (timed out, or a hold that
/// broke) is reported Failed with the wait's message and stack trace, exactly as when <see cref="WaitFailedException"/>
/// was an NUnit assertion.
/// NUnit wraps the test method in it (IWrapTestMethod, looked up on the method, then its class, then its assembly).
/// </summary>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class WaitTimeoutIsAFailureAttribute : NUnitAttribute, IWrapTestMethod
{
    public TestCommand Wrap(TestCommand command) => new FailOnWaitTimeout(command);

    internal sealed class FailOnWaitTimeout(TestCommand inner) : DelegatingTestCommand(inner)
    {
        public override NUnit.Framework.Internal.TestResult Execute(TestExecutionContext context)
        {
            try
            {
                return innerCommand.Execute(context);
            }
            catch (Exception e) when (NUnitOutcomes.Unwrap(e) is WaitFailedException failed)
            {
                context.CurrentResult.SetResult(ResultState.Failure, failed.Message, StackFilter.DefaultFilter.Filter(failed.StackTrace));
                return context.CurrentResult;
            }
        }
    }
}
