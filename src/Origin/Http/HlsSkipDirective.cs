using System.Text;

namespace StreamVerse.Origin.Http;

/// <summary>
/// The one reading of <c>_HLS_skip</c> (RFC 8216bis §6.2.5.1), shared by the routed origin, the origin's fast lane and
/// the edge's cache keys (routed and fast lane): <c>YES</c> asks for a Playlist Delta Update, <c>v2</c> for one that
/// may also skip date ranges (we have none, so the same update); any other value is a request for the full playlist.
/// </summary>
internal static class HlsSkipDirective
{
    public const string Name = "_HLS_skip";

    public static ReadOnlySpan<byte> NameUtf8 => "_HLS_skip"u8;

    /// <summary>Whether the parameter's value asks for a delta update.</summary>
    public static bool IsRequested(ReadOnlySpan<byte> value) => value.SequenceEqual("YES"u8) || value.SequenceEqual("v2"u8);

    /// <inheritdoc cref="IsRequested(ReadOnlySpan{byte})"/>
    public static bool IsRequested(ReadOnlySpan<char> value)
    {
        Span<byte> ascii = stackalloc byte[3];
        return value.Length <= ascii.Length && Encoding.ASCII.TryGetBytes(value, ascii, out var length) && IsRequested(ascii[..length]);
    }
}
