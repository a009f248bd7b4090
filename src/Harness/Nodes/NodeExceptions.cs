using Harness.Text;

namespace Harness.Nodes;

/// <summary>A node could not be reached or logged into; the message says what to fix. Never carries a secret.</summary>
public class NodeAccessException(string message, Exception? inner = null)
    : Exception(Secrets.Redact(message), inner)
{
    internal static string Hint(NodeEndpoint node) => node.Origin is null ? "" : $" ({node.Origin})";
}

/// <summary>DNS failure, refused port, or no answer.</summary>
public sealed class NodeUnreachableException(string message, Exception? inner = null) : NodeAccessException(message, inner);

/// <summary>The server rejected the user, password or key.</summary>
public sealed class NodeAuthenticationException(string message, Exception? inner = null) : NodeAccessException(message, inner);

/// <summary>The configured private key file is missing, unreadable, encrypted without a passphrase, or not a key.</summary>
public sealed class NodeKeyFileException(string message, Exception? inner = null) : NodeAccessException(message, inner);

/// <summary>The login user cannot run <c>sudo -n</c>.</summary>
public sealed class NodeSudoException(string message) : NodeAccessException(message);

/// <summary>The node offered a host key different from the one recorded on first contact.</summary>
public sealed class HostKeyChangedException(string message) : NodeAccessException(message);

/// <summary>A command did not finish within its timeout (it was signalled to stop).</summary>
public sealed class NodeCommandTimeoutException(string node, string command, TimeSpan timeout)
    : Exception(Secrets.Redact($"Command on {node} did not finish within {timeout.TotalSeconds:0.#} s: {command}"))
{
    public string Node { get; } = node;
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>A command exited non-zero where success was required.</summary>
public sealed class NodeCommandFailedException(CommandResult result)
    : Exception(Secrets.Redact(
        $"Command on {result.Node} exited with {result.ExitCode}: {result.Command}" +
        (string.IsNullOrWhiteSpace(result.Stderr) ? "" : $"{Environment.NewLine}stderr: {Trim(result.Stderr)}")))
{
    public CommandResult Result { get; } = result;

    private static string Trim(string text)
    {
        text = text.Trim();
        return text.Length <= 2000 ? text : "…" + text[^2000..];
    }
}
