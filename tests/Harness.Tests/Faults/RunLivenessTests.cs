using System.Diagnostics;
using Harness.Faults;
using Harness.Waits;
using NUnit.Framework;

namespace Harness.Tests.Faults;

public class RunLivenessTests
{
    private static LedgerEntry WrittenBy(string host, int pid, DateTimeOffset at) =>
        new("id", "run", "check", "kubelet stopped", "w1-k8s", "systemctl stop kubelet", Revert.OnNode("w1-k8s", "systemctl start kubelet"),
            at, host, pid);

    private static readonly DateTimeOffset ThisProcessStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    [Test]
    public void A_live_process_on_this_host_that_started_before_the_entry_is_alive() =>
        Assert.That(RunLiveness.IsAlive(WrittenBy(Environment.MachineName, Environment.ProcessId, DateTimeOffset.UtcNow)), Is.True);

    [Test]
    public void A_pid_reused_by_a_process_that_started_after_the_entry_is_not_the_run() =>
        Assert.That(RunLiveness.IsAlive(WrittenBy(Environment.MachineName, Environment.ProcessId, ThisProcessStarted.AddMinutes(-10))), Is.False);

    [Test]
    public void A_pid_that_no_longer_exists_is_not_alive()
    {
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit();
        var deadPid = child.Id;

        Assert.That(RunLiveness.IsAlive(WrittenBy(Environment.MachineName, deadPid, DateTimeOffset.UtcNow)), Is.False);
    }

    [Test]
    public void An_entry_from_another_host_is_not_taken_as_alive() =>
        Assert.That(RunLiveness.IsAlive(WrittenBy("some-other-machine", Environment.ProcessId, DateTimeOffset.UtcNow)), Is.False);

    [Test]
    public void The_start_time_of_this_process_is_read_from_proc()
    {
        var started = RunLiveness.StartTimeOf(Environment.ProcessId);

        Assert.That(started, Is.Not.Null);
        Assert.That(started!.Value, Is.EqualTo(ThisProcessStarted).Within(TimeSpan.FromSeconds(2)));
        Assert.That(RunLiveness.StartTimeOf(-1), Is.Null);
    }

    [Test]
    public async Task A_killed_process_its_parent_has_not_reaped_yet_is_not_alive()
    {
        // sh starts a child, then becomes `sleep`, which never waits for children: when the child exits it stays a zombie.
        using var parent = Process.Start(new ProcessStartInfo("sh", ["-c", "sleep 0.3 & echo $!; exec sleep 30"])
            { UseShellExecute = false, RedirectStandardOutput = true })!;
        try
        {
            var zombie = int.Parse(parent.StandardOutput.ReadLine()!);
            var stat = await new Until<string>($"process {zombie} to be a zombie", _ => File.ReadAllTextAsync($"/proc/{zombie}/stat"),
                s => s.Contains(") Z")) { Poll = Poll.Every(TimeSpan.FromMilliseconds(20)) }.LastWithinAsync(TimeSpan.FromSeconds(5), default);
            Assert.That(stat.Last, Does.Contain(") Z"), "the child is a zombie: its /proc entry is still there");

            Assert.That(RunLiveness.IsAlive(WrittenBy(Environment.MachineName, zombie, DateTimeOffset.UtcNow)), Is.False);
        }
        finally
        {
            parent.Kill(entireProcessTree: true);
            parent.WaitForExit();
        }
    }
}
