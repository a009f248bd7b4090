using Harness.Text;

namespace Harness.Nodes;

/// <summary>What one command on a node did. <see cref="ToString"/> is a terminal-like transcript for report attachments.</summary>
public sealed record CommandResult(string Node, string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Duration)
{
    /// <summary>The user the command ran as, for the transcript prompt.</summary>
    public string User { get; init; } = "root";

    public bool Succeeded => ExitCode == 0;

    public CommandResult EnsureSuccess() => Succeeded ? this : throw new NodeCommandFailedException(this);

    public override string ToString()
    {
        var prompt = User == "root" ? "#" : "$";
        var output = Stdout + Stderr;
        if (output.Length > 0 && !output.EndsWith('\n')) output += "\n";
        var exit = Succeeded ? "" : $"[exit {ExitCode}]\n";
        return Secrets.Redact($"[{User}@{Node} ~]{prompt} {Command}\n{output}{exit}");
    }
}
