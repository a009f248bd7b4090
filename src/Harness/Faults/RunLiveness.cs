using System.Diagnostics;

namespace Harness.Faults;

/// <summary>
/// Whether the run that wrote a ledger entry is still running: its faults are its own to revert, never a later run's.
/// </summary>
public static class RunLiveness
{
    // /proc gives a process's start time in clock ticks after a boot time in whole seconds: allow for that rounding.
    private static readonly TimeSpan StartTimeSlack = TimeSpan.FromSeconds(2);

    /// <summary>
    /// True when the entry was written on this host by a process that is still alive: its PID exists and that process
    /// started before the entry was written (a process that started later only got the dead run's PID again).
    /// An entry from another host is taken as not alive: the ledger lives on this machine, and a run from elsewhere
    /// holds the cluster's Lease, which this run has to take before it heals anything.
    /// </summary>
    public static bool IsAlive(LedgerEntry entry)
    {
        if (!string.Equals(entry.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase)) return false;
        var started = StartTimeOf(entry.Pid);
        return started is not null && started.Value <= entry.InjectedAt + StartTimeSlack;
    }

    /// <summary>When process <paramref name="pid"/> started, or null when there is no such process.</summary>
    public static DateTimeOffset? StartTimeOf(int pid)
    {
        if (pid <= 0 || !Directory.Exists($"/proc/{pid}") || IsZombie(pid)) return null;
        try
        {
            using var process = Process.GetProcessById(pid);
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null; // it ended between the two looks
        }
    }

    // A killed process whose parent has not reaped it yet keeps its /proc entry (state Z): it runs nothing any more.
    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 1)..].TrimStart().FirstOrDefault(); // after "pid (comm)", comm may hold anything
            return state is 'Z' or 'X';
        }
        catch (IOException) { return true; } // gone between the two looks
    }
}
