using System.Security.Cryptography;

namespace StreamVerse.Segmenter.Live;

/// <summary>
/// Session ids: 8 random bytes in lowercase RFC 4648 base32 without padding (13 URL-safe characters),
/// so segment names never collide across restarts of the same stream name.
/// </summary>
internal static class SessionId
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string New()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        var value = BitConverter.ToUInt64(bytes);
        return string.Create(13, value, static (chars, v) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[(int)(v & 31)];
                v >>= 5;
            }
        });
    }

    public static bool IsValid(ReadOnlySpan<char> value)
    {
        if (value.Length != 13)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!Alphabet.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
