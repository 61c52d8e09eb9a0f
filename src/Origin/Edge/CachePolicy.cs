using System.Globalization;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// Whether and for how long an origin response may be kept, from its Cache-Control (RFC 9111 §5.2.2) and
/// the stale-if-error extension (RFC 5861 §4). Immutable objects (RFC 8246) may be served stale when the
/// origin fails: their bytes can never change.
/// </summary>
internal readonly record struct CachePolicy(bool Storable, TimeSpan FreshFor, TimeSpan StaleIfError)
{
    public static readonly CachePolicy DoNotStore = new(false, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>RFC 9111 §1.2.2: a delta-seconds larger than a cache can represent is taken as 2^31 (68 years).</summary>
    internal const long MaxDeltaSeconds = 1L << 31;

    /// <summary>
    /// Longest Cache-Control an edge keeps and passes on as the origin sent it. Real ones are a few dozen bytes; the fast
    /// lane writes the header into a 4 KiB response head, together with the rest of that head.
    /// </summary>
    internal const int MaxForwardedLength = 256;

    /// <param name="cacheControl">The response's Cache-Control, null if absent.</param>
    /// <param name="age">The response's Age header (RFC 9111 §5.1), already spent at the origin or a cache before it.</param>
    public static CachePolicy From(string? cacheControl, TimeSpan age)
    {
        if (string.IsNullOrWhiteSpace(cacheControl))
        {
            // No explicit freshness: a live edge must not guess (heuristic freshness would serve stale playlists).
            return DoNotStore;
        }

        long? maxAge = null, sMaxAge = null, staleIfError = null;
        var immutable = false;
        foreach (var raw in cacheControl.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            var name = (eq < 0 ? raw : raw[..eq]).Trim().ToLowerInvariant();
            var value = eq < 0 ? null : raw[(eq + 1)..].Trim().Trim('"');
            switch (name)
            {
                case "no-store" or "no-cache" or "private":
                    // no-cache would allow storing with revalidation on every use; for an edge that is the same as not storing.
                    return DoNotStore;
                case "max-age":
                    maxAge = Seconds(value);
                    break;
                case "s-maxage":
                    sMaxAge = Seconds(value);
                    break;
                case "immutable":
                    immutable = true;
                    break;
                case "stale-if-error":
                    staleIfError = Seconds(value);
                    break;
            }
        }

        // s-maxage overrides max-age for shared caches (RFC 9111 §5.2.2.10).
        var lifetime = sMaxAge ?? maxAge;
        if (lifetime is null or <= 0)
        {
            return DoNotStore;
        }

        var fresh = TimeSpan.FromSeconds(lifetime.Value) - age;
        if (fresh <= TimeSpan.Zero)
        {
            return DoNotStore;
        }

        var stale = immutable ? TimeSpan.FromDays(365) : TimeSpan.FromSeconds(staleIfError ?? 0);
        return new CachePolicy(true, fresh, stale);
    }

    /// <summary>
    /// The Cache-Control an edge keeps with the object and sends its viewers: <paramref name="cacheControl"/> as the origin
    /// sent it, unless it is longer than <see cref="MaxForwardedLength"/> or not printable ASCII (a response head takes
    /// neither as it is); then the rule the edge made of it: <c>max-age</c> of the whole lifetime (the edge's <c>Age</c>
    /// counts what was spent) and <c>stale-if-error</c>, or <c>no-store</c>.
    /// </summary>
    /// <param name="age">The Age this policy was made with.</param>
    public string Forwarded(string cacheControl, TimeSpan age)
    {
        if (cacheControl.Length <= MaxForwardedLength && !cacheControl.AsSpan().ContainsAnyExceptInRange(' ', '~'))
        {
            return cacheControl;
        }

        if (!Storable)
        {
            return "no-store";
        }

        var maxAge = (long)(FreshFor + age).TotalSeconds;
        var staleIfError = (long)StaleIfError.TotalSeconds;
        return staleIfError > 0
            ? string.Create(CultureInfo.InvariantCulture, $"max-age={maxAge}, stale-if-error={staleIfError}")
            : string.Create(CultureInfo.InvariantCulture, $"max-age={maxAge}");
    }

    /// <summary>A delta-seconds (digits only), capped at <see cref="MaxDeltaSeconds"/> however many digits it has; null if not a number.</summary>
    private static long? Seconds(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            return null;
        }

        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s < MaxDeltaSeconds ? s : MaxDeltaSeconds;
    }
}
