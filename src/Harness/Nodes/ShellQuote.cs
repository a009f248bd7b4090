namespace Harness.Nodes;

internal static class ShellQuote
{
    /// <summary>POSIX single-quoting: the text reaches the remote shell verbatim.</summary>
    public static string Single(string text) => "'" + text.Replace("'", "'\\''") + "'";
}
