using System.Runtime.InteropServices;
using VersionGate.Fleet;

// ./verify gate → the version-bump gate; ./verify heal --list / --forget <id> → the fault ledger (neither needs a cluster);
// ./verify fleet FILE … → one leg per cluster and their merged report.
if (args is ["fleet", .. var fleetArgs])
{
    // The first Ctrl-C or SIGTERM stops the legs gracefully (their checks revert their faults), a second one kills them.
    using var stop = new CancellationTokenSource();
    using var kill = new CancellationTokenSource();
    var signals = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM }.Select(signal => PosixSignalRegistration.Create(signal, context =>
    {
        context.Cancel = true; // the fleet outlives its legs, to report how they ended
        Console.Error.WriteLine(stop.IsCancellationRequested
            ? $"fleet: {signal} again: killing the legs"
            : $"fleet: {signal}: stopping the legs (their faults are reverted); {signal} again kills them");
        (stop.IsCancellationRequested ? kill : stop).Cancel();
    })).ToList();
    try { return await FleetCommand.RunAsync(fleetArgs, Console.Out, Console.Error, stop: stop.Token, kill: kill.Token); }
    finally { signals.ForEach(s => s.Dispose()); }
}
return VersionGate.LedgerCommand.Handles(args)
    ? await VersionGate.LedgerCommand.RunAsync(args, Console.Out, Console.Error)
    : await VersionGate.GateCommand.RunAsync(args, Console.Out, Console.Error);
