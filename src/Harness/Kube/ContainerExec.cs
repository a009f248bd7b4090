using Harness.Nodes;

namespace Harness.Kube;

/// <summary>Reading <c>kubectl exec POD -- /bin/sh -c 'kill 1'</c>: did the shell send the signal?</summary>
public static class ContainerExec
{
    /// <summary>
    /// Exit 0: the shell sent the signal and exited. Exit 137 (kubectl: "command terminated with exit code 137"): the
    /// shell was killed with its container, which only stops because the signal arrived. Anything else (no shell, no
    /// such pod, permission denied, an exec that never ran) means nothing was killed.
    /// </summary>
    public static bool SignalWasSent(CommandResult exec) =>
        exec.Succeeded || exec.ExitCode == 137 || exec.Stderr.Contains("command terminated with exit code 137");
}
