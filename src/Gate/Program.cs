// ./verify gate → the version-bump gate; ./verify heal --list / --forget <id> → the fault ledger (neither needs a cluster).
return VersionGate.LedgerCommand.Handles(args)
    ? await VersionGate.LedgerCommand.RunAsync(args, Console.Out, Console.Error)
    : await VersionGate.GateCommand.RunAsync(args, Console.Out, Console.Error);
