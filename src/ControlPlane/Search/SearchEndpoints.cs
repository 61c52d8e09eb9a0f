using System.Text;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Discovery;

namespace StreamVerse.ControlPlane.Search;

/// <summary>
/// <c>/api/v1/search/videos</c>, <c>/search/channels</c> and <c>/search/suggest</c>: anonymous, over listed videos only
/// (<see cref="Listing.Listed"/>). Queries are words, not syntax (<see cref="SearchTerms"/>).
/// </summary>
internal static class SearchEndpoints
{
    public const int MaxSuggestions = 20;

    public static IEndpointRouteBuilder MapSearch(this IEndpointRouteBuilder api)
    {
        var search = api.MapGroup("/search").WithTags("Search").AllowAnonymous();
        search.MapGet("/videos", VideosAsync).Produces<Page<VideoCard>>().ProducesValidationProblem();
        search.MapGet("/channels", ChannelsAsync).Produces<Page<ChannelHit>>().ProducesValidationProblem();
        search.MapGet("/suggest", SuggestAsync).Produces<Page<SearchSuggestion>>().ProducesValidationProblem();
        return api;
    }

    /// <param name="q">Words to find (at least one of 3+ letters or digits); typos and prefixes match.</param>
    /// <param name="sort">relevance (default) or date (newest first).</param>
    /// <param name="type">live (broadcasting now) or vod; any when absent.</param>
    /// <param name="channel">Search within this channel.</param>
    /// <param name="minDuration">Shortest duration, seconds.</param>
    /// <param name="maxDuration">Longest duration, seconds.</param>
    /// <param name="from">Listed at or after this instant.</param>
    /// <param name="to">Listed before this instant.</param>
    private static async Task<IResult> VideosAsync(SearchStore store, string? q, string? sort, long? category, string? tag, string? channel, string? language,
        string? type, double? minDuration, double? maxDuration, DateTimeOffset? from, DateTimeOffset? to, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var terms = SearchTerms.Parse(q, v);
        var feed = FeedEndpoints.Filter(category, tag, channel, v);
        if (sort is not (null or "relevance" or "date"))
        {
            v.Add("sort", "must be relevance or date");
        }

        var kind = type switch
        {
            null => 0,
            "live" => 1,
            "vod" => 2,
            _ => -1,
        };
        if (kind < 0)
        {
            v.Add("type", "must be live or vod");
        }

        if (language is not null && (language.Length is < 2 or > 16 || language.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")))
        {
            v.Add("language", "must be a BCP 47 language tag such as en or pt-BR");
        }

        if (minDuration is < 0 || double.IsNaN(minDuration ?? 0))
        {
            v.Add("minDuration", "must be zero or more seconds");
        }

        if (maxDuration is < 0 || double.IsNaN(maxDuration ?? 0) || (minDuration is { } min && maxDuration is { } max && max < min))
        {
            v.Add("maxDuration", "must be zero or more seconds, and not less than minDuration");
        }

        if (from is { } f && to is { } t && t <= f)
        {
            v.Add("to", "must be after from");
        }

        var take = Paging.Limit(limit, v);
        if (terms is null || !v.IsValid)
        {
            return v.Result();
        }

        var filter = new SearchFilter(feed.Category, feed.Tag, feed.Channel, language, kind, minDuration, maxDuration, from, to);
        var page = await store.VideosAsync(terms, filter, sort == "date", cursor, take, v, cancellationToken).ConfigureAwait(false);
        return v.IsValid ? TypedResults.Ok(page) : v.Result();
    }

    private static async Task<IResult> ChannelsAsync(SearchStore store, string? q, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var terms = SearchTerms.Parse(q, v);
        var take = Paging.Limit(limit, v);
        var after = FeedStore.AfterLong(cursor, "search-channels", v);
        if (terms is null || !v.IsValid)
        {
            return v.Result();
        }

        return TypedResults.Ok(await store.ChannelsAsync(terms, after, take, cancellationToken).ConfigureAwait(false));
    }

    /// <param name="q">What the viewer has typed so far (2 to 100 characters).</param>
    /// <param name="limit">At most this many suggestions (1..20, default 10); one page only.</param>
    private static async Task<IResult> SuggestAsync(SearchStore store, string? q, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var prefix = Normalise(q ?? "");
        if (prefix.Length is < 2 or > 100)
        {
            v.Add("q", "must be 2 to 100 characters");
        }

        var take = limit ?? 10;
        if (take is < 1 or > MaxSuggestions)
        {
            v.Add("limit", $"must be between 1 and {MaxSuggestions}");
        }

        return v.IsValid ? TypedResults.Ok(await store.SuggestAsync(prefix, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    /// <summary>Lower case (the index holds lower-cased titles), runs of whitespace as one space, trimmed.</summary>
    private static string Normalise(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.Trim().ToLowerInvariant())
        {
            if (char.IsWhiteSpace(c))
            {
                if (sb.Length > 0 && sb[^1] != ' ')
                {
                    sb.Append(' ');
                }
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
