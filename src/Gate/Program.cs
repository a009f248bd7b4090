return await VersionGate.GateCommand.RunAsync(args, Console.Out, Console.Error);
