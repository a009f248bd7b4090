using Harness.Faults;

namespace Harness.Tests.Faults;

/// <summary>Records the reverts it is asked for; fails those whose target is in <see cref="FailOn"/>.</summary>
internal sealed class FakeReverter : IReverter
{
    public List<Revert> Reverted { get; } = [];
    public HashSet<string> FailOn { get; } = [];

    public Task RevertAsync(Revert revert, CancellationToken ct)
    {
        if (FailOn.Contains(revert.Target)) throw new InvalidOperationException($"ssh: connect to {revert.Target} refused");
        Reverted.Add(revert);
        return Task.CompletedTask;
    }
}
