using Harness.Kube;
using Harness.Nodes;
using NUnit.Framework;

namespace Harness.Tests.Kube;

public sealed class ContainerExecTests
{
    private static CommandResult Exec(int exitCode, string stderr) =>
        new("m-k8s", "kubectl exec nginx-pod -- /bin/sh -c 'kill 1'", exitCode, "", stderr, TimeSpan.FromMilliseconds(300));

    [Test]
    public void TheShellExitingOrDyingWithItsContainerMeansTheSignalWasSent()
    {
        Assert.That(ContainerExec.SignalWasSent(Exec(0, "")), Is.True);
        Assert.That(ContainerExec.SignalWasSent(Exec(1, "command terminated with exit code 137\n")), Is.True);
        Assert.That(ContainerExec.SignalWasSent(Exec(137, "")), Is.True);
    }

    // What kubectl 1.20 prints when the exec itself fails.
    [TestCase(1, "OCI runtime exec failed: exec failed: container_linux.go:370: starting container process caused: exec: \"kill\": executable file not found in $PATH: unknown\ncommand terminated with exit code 126\n")]
    [TestCase(1, "/bin/sh: 1: kill: Operation not permitted\ncommand terminated with exit code 2\n")]
    [TestCase(1, "Error from server (NotFound): pods \"nginx-pod\" not found\n")]
    [TestCase(127, "sh: kill: not found\n")]
    public void AnExecThatFailsSentNothing(int exitCode, string stderr) =>
        Assert.That(ContainerExec.SignalWasSent(Exec(exitCode, stderr)), Is.False);
}
