using System.Collections.Concurrent;

namespace Harness.Text;

/// <summary>
/// Every secret the harness handles (passwords, key material, tokens) is registered here the moment it is read,
/// and every text that leaves the process (console, attachments, result files) goes through <see cref="Redact"/>.
/// </summary>
public static class Secrets
{
    public const string Mask = "***";

    // Process-wide on purpose, the one piece of shared data the harness keeps: a secret read anywhere (a node's
    // password, a kubeconfig's key) must be masked in every text this process writes, whichever check, context or
    // writer writes it. It only grows, and it is safe to use from checks running side by side.
    private static readonly ConcurrentDictionary<string, byte> Known = new();

    public static void Register(string? secret)
    {
        // Very short values would mask ordinary words; a profile refuses such passwords anyway.
        if (!string.IsNullOrEmpty(secret) && secret.Length >= 4) Known.TryAdd(secret, 0);
    }

    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? string.Empty;
        foreach (var secret in Known.Keys.OrderByDescending(s => s.Length))
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        return RedactKnownShapes(text);
    }

    // Shapes that are secret whoever registered them: PEM private keys, bearer tokens, kubeconfig key data.
    private static string RedactKnownShapes(string text)
    {
        text = System.Text.RegularExpressions.Regex.Replace(text,
            "-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\\s\\S]*?-----END \\1PRIVATE KEY-----", "-----PRIVATE KEY " + Mask + "-----");
        text = System.Text.RegularExpressions.Regex.Replace(text,
            "(?im)^(\\s*(client-key-data|client-certificate-data|token|password)\\s*:\\s*).+$", "$1" + Mask);
        text = System.Text.RegularExpressions.Regex.Replace(text, "(?i)(Bearer\\s+)[A-Za-z0-9\\-\\._~\\+/]+=*", "$1" + Mask);
        return text;
    }
}
