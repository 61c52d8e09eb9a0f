using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Tags;

internal sealed record TagInfo(string Name, long Videos);

/// <summary>
/// <c>/api/v1/tags</c>: free-form tags, normalised on the way in (see <see cref="TagRules"/>); created by being
/// put on a video, listed with how many public videos carry them. A tag no public video carries is not listed: a
/// private, unlisted or premium video's tags would tell what it is about.
/// </summary>
internal static class TagEndpoints
{
    public static RouteGroupBuilder MapTags(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/tags").WithTags("Tags");
        group.MapGet("", ListAsync).AllowAnonymous().Produces<List<TagInfo>>().ProducesValidationProblem();
        return group;
    }

    private static async Task<IResult> ListAsync(string? prefix, int? limit, Database database, CancellationToken cancellationToken)
    {
        var take = limit ?? 50;
        if (take is < 1 or > 200)
        {
            return new Validation().Add("limit", "must be between 1 and 200").Result();
        }

        var p = TagRules.Normalise(prefix ?? "");
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var escaped = p.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
        var list = await db.QueryAsync(
            $"""
            SELECT t.name, COUNT(v.id) AS n
            FROM tags t JOIN video_tags vt ON vt.tag_id = t.id JOIN videos v ON v.id = vt.video_id AND v.visibility = 'public' AND {VideoEndpoints.PlayableSql}
            WHERE t.name {db.Dialect.ILike} @p ESCAPE '\'
            GROUP BY t.name
            ORDER BY n DESC, t.name
            LIMIT @take
            """,
            [("p", escaped), ("take", take)], (r, _) => new TagInfo(r.GetString(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(list);
    }
}
