using System.Diagnostics;
using Harness.Waits;
using NUnit.Framework;

namespace Harness.Tests.Waits;

/// <summary>
/// "Eventually" (<see cref="Until{T}"/>): it looks until what it sees holds, says what it saw last when time runs out,
/// looks again after the errors it is told mean "not yet", and gives way to the caller's token. Short real durations.
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class UntilTests
{
    private static readonly Poll Fast = Poll.Every(TimeSpan.FromMilliseconds(10));
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    /// <summary>A look that answers 1, 2, 3, … and counts how often it was asked.</summary>
    private sealed class Counter
    {
        private int _looks;
        public int Looks => Volatile.Read(ref _looks);
        public Task<int> LookAsync(CancellationToken _) => Task.FromResult(Interlocked.Increment(ref _looks));
    }

    [TestCase(1)]
    [TestCase(4)]
    public async Task It_returns_the_first_look_that_holds(int holdsAt)
    {
        var counter = new Counter();

        var seen = await new Until<int>("the count to reach it", counter.LookAsync, n => n >= holdsAt) { Poll = Fast }.WithinAsync(Long, default);

        Assert.That(seen, Is.EqualTo(holdsAt));
        Assert.That(counter.Looks, Is.EqualTo(holdsAt), "no look after the one that held");
    }

    [Test]
    public async Task Running_out_says_what_was_awaited_for_how_long_and_what_was_seen_last()
    {
        var counter = new Counter();
        var until = new Until<int>("nginx-pod to answer", counter.LookAsync, _ => false) { Poll = Fast, Describe = n => $"look {n}: connection refused" };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => until.WithinAsync(TimeSpan.FromMilliseconds(300), default));

        Assert.That(counter.Looks, Is.GreaterThan(2), "it kept looking until the deadline");
        Assert.That(timeout!.Message, Does.StartWith("Timed out after 0 s waiting for nginx-pod to answer. Last seen: look "));
        Assert.That(timeout.LastState, Does.EndWith(": connection refused"));
        Assert.That(timeout.Message, Does.EndWith(timeout.LastState), "the message quotes the last state");
    }

    [Test]
    public async Task The_last_look_comes_back_for_a_caller_that_judges_it_itself()
    {
        var counter = new Counter();

        var seen = await new Until<int>("the count to go negative", counter.LookAsync, n => n < 0) { Poll = Fast }
            .LastWithinAsync(TimeSpan.FromMilliseconds(200), default);

        Assert.That(seen.Holds, Is.False);
        Assert.That(seen.Last, Is.EqualTo(counter.Looks).Or.EqualTo(counter.Looks - 1), "the last look that finished");
        Assert.That(seen.Looks, Is.EqualTo(seen.Last));
        Assert.That(seen.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)));
    }

    [Test]
    public async Task An_error_it_was_told_means_not_yet_is_looked_at_again_and_named_when_time_runs_out()
    {
        var looks = 0;
        var until = new Until<string>("w1-k8s to accept an SSH login", _ =>
            ++looks <= 2 ? throw new IOException("Connection refused") : Task.FromResult("logged in"), _ => true)
            { Poll = Fast, NotYetOn = e => e is IOException };

        Assert.That(await until.WithinAsync(Long, default), Is.EqualTo("logged in"));
        Assert.That(looks, Is.EqualTo(3));

        var down = until with { Look = _ => throw new IOException("Connection refused") };
        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => down.WithinAsync(TimeSpan.FromMilliseconds(200), default));
        Assert.That(timeout!.LastState, Is.EqualTo("IOException: Connection refused"));
    }

    [Test]
    public void Any_other_error_ends_the_wait_at_once_with_that_error()
    {
        var looks = 0;
        var clock = Stopwatch.StartNew();
        var until = new Until<int>("the API to answer", _ => { looks++; throw new UnauthorizedAccessException("403 Forbidden"); }, _ => true)
            { Poll = Fast, NotYetOn = e => e is IOException };

        Assert.ThrowsAsync<UnauthorizedAccessException>(() => until.WithinAsync(Long, default));
        Assert.That(looks, Is.EqualTo(1));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "not after the deadline");
    }

    [Test]
    public async Task The_deadline_cancels_a_look_in_flight()
    {
        var clock = Stopwatch.StartNew();
        var hangs = new Until<int>("a command that hangs", async t => { await Task.Delay(Timeout.Infinite, t); return 0; }, _ => true) { Poll = Fast };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => hangs.WithinAsync(TimeSpan.FromMilliseconds(200), default));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(timeout!.LastState, Is.EqualTo("nothing (no look finished)"));
    }

    [Test]
    public async Task A_look_that_must_finish_runs_past_the_deadline_and_counts()
    {
        // kubectl rollout status waits up to its own --timeout: the deadline only says whether to ask again.
        var slow = new Until<string>("kubectl to answer", async _ => { await Task.Delay(300); return "successfully rolled out"; }, _ => true)
            { Poll = Fast, DeadlineCancelsLook = false };

        Assert.That(await slow.WithinAsync(TimeSpan.FromMilliseconds(50), default), Is.EqualTo("successfully rolled out"));

        // The first answer comes at 300 ms, before the deadline: ask again; the second at 600 ms, after it: stop.
        var looks = 0;
        var stale = slow with { Look = async _ => { looks++; await Task.Delay(300); return "exceeded its progress deadline"; }, Holds = a => a.StartsWith("success") };
        var seen = await stale.LastWithinAsync(TimeSpan.FromMilliseconds(500), default);
        Assert.That(seen.Holds, Is.False);
        Assert.That(seen.Last, Is.EqualTo("exceeded its progress deadline"), "the last answer, which ran to its end");
        Assert.That(looks, Is.EqualTo(2), "asked again only while the deadline had not passed");
    }

    [Test]
    public void A_poll_interval_must_be_longer_than_zero()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Poll.Every(TimeSpan.Zero));
        Assert.That(Poll.Default.Interval, Is.EqualTo(TimeSpan.FromSeconds(2)), "e2e's framework.Poll");
    }
}
