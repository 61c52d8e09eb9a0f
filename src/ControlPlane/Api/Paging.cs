using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace StreamVerse.ControlPlane.Api;

/// <summary>
/// One page of a keyset-paged list: every list endpoint answers with this shape (building-features.md §3.6).
/// <paramref name="NextCursor"/> is null on the last page; otherwise the client passes it back as <c>cursor</c>
/// with the same sort to get the next page.
/// </summary>
/// <param name="Items">The items of this page, in the listing's order.</param>
/// <param name="NextCursor">Opaque cursor of the next page; null when this is the last page.</param>
internal sealed record Page<T>(List<T> Items, string? NextCursor);

/// <summary>
/// Keyset paging: validation of <c>cursor</c> and <c>limit</c>, and the cursor's encoding. A cursor is
/// base64url of "sort|id|key": tied to the sort order it was made for (one made for another sort is refused),
/// not secret and not signed (a forged cursor only moves a list the caller may read anyway). Queries fetch
/// <c>limit + 1</c> rows ordered by (key, id) and call <see cref="Cut{T}"/>.
/// </summary>
internal static class Paging
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    /// <summary>The page size from <c>limit</c> (1..100, default 20); an error on <paramref name="v"/> otherwise.</summary>
    public static int Limit(int? limit, Validation v, int defaultLimit = DefaultLimit)
    {
        var take = limit ?? defaultLimit;
        if (take is < 1 or > MaxLimit)
        {
            v.Add("limit", $"must be between 1 and {MaxLimit}");
        }

        return take;
    }

    /// <summary>Decodes <paramref name="cursor"/> made for <paramref name="sort"/>; null input gives (null, null); an error on <paramref name="v"/> when it is not one of this listing's.</summary>
    public static (string? Key, string? Id) After(string? cursor, string sort, Validation v)
    {
        if (cursor is null)
        {
            return (null, null);
        }

        if (TryDecode(cursor, sort, out var key, out var id))
        {
            return (key, id);
        }

        v.Add("cursor", "is not a cursor of this listing");
        return (null, null);
    }

    /// <summary>
    /// The keyset position of a newest-first list (<c>ORDER BY created_at DESC, id DESC</c>) from <paramref name="cursor"/>;
    /// without one, a position before every row (the end of time, an empty id), so each such list is one constant
    /// statement <c>WHERE (created_at &lt; @ck OR (created_at = @ck AND id &lt; @cid))</c> with no optional parameter.
    /// </summary>
    public static (DateTimeOffset At, string Id) AfterNewest(string? cursor, string sort, Validation v)
    {
        var (key, id) = After(cursor, sort, v);
        if (key is null || id is null)
        {
            return (DateTimeOffset.MaxValue.AddYears(-1), "");
        }

        if (DateTimeOffset.TryParseExact(key, "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return (at, id);
        }

        v.Add("cursor", "is not a cursor of this listing");
        return (default, "");
    }

    /// <summary>The cursor key of an instant (round-trip "O" format, what <see cref="AfterNewest"/> reads).</summary>
    public static string Key(DateTimeOffset at) => at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    public static string Encode(string sort, string key, string id) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{sort}|{id}|{key}"));

    public static bool TryDecode(string text, string sort, out string key, out string id)
    {
        key = id = "";
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split('|', 3);
            if (parts.Length != 3 || parts[0] != sort || parts[1].Length == 0)
            {
                return false;
            }

            (id, key) = (parts[1], parts[2]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Turns <paramref name="rows"/> (fetched with <c>LIMIT take + 1</c>) into a page: drops the extra row and,
    /// when there was one, makes the next cursor from the last kept row's key and id.
    /// </summary>
    public static Page<TOut> Cut<TRow, TOut>(List<TRow> rows, int take, string sort, Func<TRow, (string Key, string Id)> keyOf, Func<TRow, TOut> map)
    {
        string? next = null;
        if (rows.Count > take)
        {
            rows.RemoveRange(take, rows.Count - take);
            var (key, id) = keyOf(rows[^1]);
            next = Encode(sort, key, id);
        }

        return new Page<TOut>(rows.ConvertAll(r => map(r)), next);
    }
}
