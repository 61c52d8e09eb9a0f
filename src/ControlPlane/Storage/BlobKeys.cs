using System.Buffers;

namespace StreamVerse.ControlPlane.Storage;

/// <summary>
/// The one rule for blob keys, shared by every backend so that a key that works on the local filesystem works on
/// S3 and the other way round: '/'-separated segments of <c>[A-Za-z0-9._-]</c>, none empty, none starting with '.'
/// (no traversal, no hidden files), none ending in <c>.type</c> (the local backend's content-type sidecars).
/// </summary>
internal static class BlobKeys
{
    /// <summary>Suffix of the local backend's content-type sidecar files; reserved in every backend.</summary>
    public const string TypeSuffix = ".type";

    private static readonly SearchValues<char> SafeChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

    public static bool IsSafe(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return false;
        }

        foreach (var range in key.AsSpan().Split('/'))
        {
            var part = key.AsSpan(range);
            if (part.Length == 0 || part[0] == '.' || part.ContainsAnyExcept(SafeChars) || part.EndsWith(TypeSuffix, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public static void ThrowIfUnsafe(string key)
    {
        if (!IsSafe(key))
        {
            throw new ArgumentException("unsafe blob key", nameof(key));
        }
    }
}
