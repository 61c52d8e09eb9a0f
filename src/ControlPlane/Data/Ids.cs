using System.Buffers.Text;
using System.Security.Cryptography;

namespace StreamVerse.ControlPlane.Data;

internal static class Ids
{
    /// <summary>
    /// 96 random bits as 16 base64url characters: unguessable, and safe as a playback stream name
    /// (letters, digits, '-' and '_').
    /// </summary>
    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12));

    /// <summary>A 256-bit secret (refresh tokens, stream keys), base64url.</summary>
    public static string Secret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>SHA-256 hex of a high-entropy secret: what the database stores and looks up.</summary>
    public static string HashSecret(string secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), hash);
        return Convert.ToHexStringLower(hash);
    }
}
