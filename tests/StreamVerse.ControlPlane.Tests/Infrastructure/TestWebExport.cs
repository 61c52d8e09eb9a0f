using System.Security.Cryptography;
using System.Text;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// The shape of src/Web's static export (Next.js <c>output: 'export'</c>, then scripts/csp-hashes.mjs) in a few
/// files: pages as <c>NAME.html</c> with an inline script, RSC payloads as <c>.txt</c>, hashed assets under
/// <c>_next/static/</c>, <c>404.html</c>, and <c>csp-hashes.json</c> with the SHA-256 of each page's inline scripts.
/// </summary>
public static class TestWebExport
{
    public const string InlineScript = "document.documentElement.dataset.app='1'";

    public static string Hash { get; } = "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(InlineScript)));

    public static string Write(string root)
    {
        static string Page(string name) =>
            $"<!DOCTYPE html><html><head><script src=\"/_next/static/chunks/app-0a1b2c.js\"></script></head><body>{name}<script>{InlineScript}</script></body></html>";
        Directory.CreateDirectory(Path.Combine(root, "_next", "static", "chunks"));
        File.WriteAllText(Path.Combine(root, "index.html"), Page("home page"));
        File.WriteAllText(Path.Combine(root, "watch.html"), Page("watch page"));
        File.WriteAllText(Path.Combine(root, "embed.html"), Page("embed page"));
        File.WriteAllText(Path.Combine(root, "404.html"), Page("not found page"));
        File.WriteAllText(Path.Combine(root, "watch.txt"), "0:{}");
        File.WriteAllText(Path.Combine(root, "_next", "static", "chunks", "app-0a1b2c.js"), "console.log('app')");
        File.WriteAllText(Path.Combine(root, "csp-hashes.json"),
            $$"""{ "index.html": ["{{Hash}}"], "watch.html": ["{{Hash}}"], "embed.html": ["{{Hash}}"], "404.html": ["{{Hash}}"] }""");
        return root;
    }
}
