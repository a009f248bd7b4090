using Harness.Checks;
using Harness.Profiles;
using NUnit.Framework;

namespace Harness.Tests.Checks;

/// <summary>The book's w1-k8s, w2-k8s and w3-k8s on clusters with other workers and other fault targets.</summary>
public class BookWorkersTests
{
    private static BookWorkers Of(string[] workers, string[] targets) =>
        BookWorkers.Of(new ClusterProfile { Name = "test", Workers = [.. workers], FaultTargets = [.. targets] });

    [TestCase(new[] { "w1-k8s", "w2-k8s", "w3-k8s" }, new[] { "w1-k8s", "w2-k8s", "w3-k8s" }, "w1-k8s", "w2-k8s", "w3-k8s", TestName = "the book's three workers")]
    [TestCase(new[] { "w1-k8s", "w2-k8s" }, new[] { "w1-k8s", "w2-k8s" }, "w1-k8s", "w2-k8s", "w2-k8s", TestName = "two workers: w2 is also the last")]
    [TestCase(new[] { "w1-k8s", "w2-k8s", "w3-k8s" }, new[] { "w3-k8s" }, "w3-k8s", "w3-k8s", "w3-k8s", TestName = "one fault target: every pick is it")]
    [TestCase(new[] { "w1-k8s", "w2-k8s", "w3-k8s", "w4-k8s" }, new[] { "w4-k8s", "w2-k8s" }, "w2-k8s", "w4-k8s", "w4-k8s", TestName = "picks follow the workers' order, not the targets'")]
    public void First_second_and_last_are_fault_targets_in_the_workers_order(string[] workers, string[] targets, string first, string second, string last)
    {
        var book = Of(workers, targets);

        Assert.That((book.First, book.Second, book.Last), Is.EqualTo((first, second, last)));
        Assert.That(book.All, Is.EqualTo(workers), "a Deployment's pods may land on any worker, target or not");
    }

    [Test]
    public void No_worker_a_fault_target_is_said_by_the_profile_s_name()
    {
        var book = Of(["w1-k8s"], ["m-k8s"]);

        Assert.That(() => book.Last, Throws.InvalidOperationException.With.Message.EqualTo("Profile 'test' marks no worker as a fault target ('faultTargets')."));
    }

    [TestCase(3, ExpectedResult = new[] { 3, 9 })]
    [TestCase(2, ExpectedResult = new[] { 2, 6 })]
    [TestCase(4, ExpectedResult = new[] { 4, 12 })]
    public int[] The_book_s_3_and_9_replicas_are_one_and_three_per_worker(int workers)
    {
        var book = Of([.. Enumerable.Range(1, workers).Select(i => $"w{i}-k8s")], []);
        return [book.OnePodEach, book.ThreePodsEach];
    }

    [Test]
    public void A_command_at_a_node_s_prompt_reads_as_the_book_shows_it() =>
        Assert.That(BookWorkers.Prompt("w3-k8s", "systemctl stop kubelet"), Is.EqualTo("[w3-k8s]$ systemctl stop kubelet"));
}
