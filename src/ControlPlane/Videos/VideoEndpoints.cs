using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Captions;
using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Mail;

namespace StreamVerse.ControlPlane.Videos;

/// <summary>
/// <c>/api/v1/videos</c>: CRUD (owner-or-admin), and a list with filters (channel, category, tag), sorting
/// (newest, views, title) and keyset pagination behind an opaque cursor.
/// </summary>
internal static class VideoEndpoints
{
    private const string Select =
        """
        SELECT v.id, v.channel_id, c.owner_id, v.title, v.description, v.category_id, v.language, v.visibility, v.status,
               v.duration_seconds, v.thumbnail_url, v.view_count, v.created_at, v.updated_at, v.vod_prefix, v.processing_progress, v.failure_reason,
               v.like_count, v.dislike_count, v.reactions_enabled, v.dislikes_hidden,
               v.comment_policy, v.comment_count, v.audio_tracks, v.custom_thumbnail_key, v.publish_at, v.moderation, v.premiere_at
        FROM videos v JOIN channels c ON c.id = v.channel_id
        """;

    /// <summary>
    /// What a viewer can play: a published presentation (a fast-start preview counts, and a video being
    /// re-transcoded keeps playing its previous one), or a live stream and its recording. Drafts, uploads still
    /// waiting for a first presentation and failed first transcodes are their owner's business only; so is a video a
    /// moderator hid or removed (Moderation/): it leaves every list and plays to nobody.
    /// </summary>
    internal const string PlayableSql = "((v.vod_prefix IS NOT NULL OR v.status IN ('live', 'ended')) AND v.moderation IS NULL)";

    public static RouteGroupBuilder MapVideos(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/videos").WithTags("Videos");
        group.MapGet("", ListAsync).AllowAnonymous().Produces<VideoPage>().ProducesValidationProblem();
        group.MapGet("/{id}", GetAsync).AllowAnonymous().Produces<Video>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("", CreateAsync).RequireAuthorization(Policies.User).RequireVerifiedEmail().Produces<Video>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapPatch("/{id}", UpdateAsync).RequireAuthorization(Policies.User).Produces<Video>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapThumbnails(api.ServiceProvider);
        group.MapSchedule();
        return group;
    }

    private sealed record Row(string Id, string ChannelId, string OwnerId, string Title, string Description, long? CategoryId, string? Language,
        string Visibility, string Status, double? Duration, string? Thumbnail, long Views, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
        string? VodPrefix, double? Progress, string? FailureReason, long Likes, long Dislikes, bool ReactionsEnabled, bool DislikesHidden,
        string CommentPolicy, long CommentCount, string? AudioTracks, string? CustomThumbnailKey, DateTimeOffset? PublishAt, string? Moderation,
        DateTimeOffset? PremiereAt)
    {
        public static Row Read(System.Data.Common.DbDataReader r, Dialect d) => new(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetInt64(5),
            r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7), r.GetString(8), r.IsDBNull(9) ? null : r.GetDouble(9),
            r.IsDBNull(10) ? null : r.GetString(10), r.GetInt64(11), d.ReadTimestamp(r, 12), d.ReadTimestamp(r, 13),
            r.IsDBNull(14) ? null : r.GetString(14), r.IsDBNull(15) ? null : r.GetDouble(15), r.IsDBNull(16) ? null : r.GetString(16),
            r.GetInt64(17), r.GetInt64(18), r.GetBoolean(19), r.GetBoolean(20), r.GetString(21), r.GetInt64(22),
            r.IsDBNull(23) ? null : r.GetString(23), r.IsDBNull(24) ? null : r.GetString(24), d.ReadNullableTimestamp(r, 25),
            r.IsDBNull(26) ? null : r.GetString(26), d.ReadNullableTimestamp(r, 27));

        /// <summary>The SQL <see cref="PlayableSql"/>, for one row.</summary>
        public bool IsPlayable => (VodPrefix is not null || Status is VideoStatus.Live or VideoStatus.Ended) && Moderation is null;

        // Uploaded videos play from their published presentation (the delivery maps /vod/{id}/ to vod_prefix);
        // live ones from the segmenter.
        public Video ToVideo(string[] tags, CaptionInfo[] captions) => new(Id, ChannelId, OwnerId, Title, Description, tags, CategoryId, Language, Visibility, Status,
            Duration, CustomThumbnailKey is { } custom ? "/" + custom : Thumbnail, Views, CreatedAt, UpdatedAt,
            VodPrefix is null ? $"/live/{Id}/index.m3u8" : $"/vod/{Id}/index.m3u8",
            VodPrefix is null ? $"/live/{Id}/index.mpd" : $"/vod/{Id}/index.mpd",
            Progress, FailureReason, StoryboardPath, Likes, Dislikes, ReactionsEnabled, DislikesHidden, CommentPolicy, CommentCount,
            VodPrefix is null ? [] : AudioTrackColumn.Read(AudioTracks), captions, PublishAt, PremiereAt);

        /// <summary>
        /// The full ladder writes the poster and the storyboard together (fast-start previews write neither), so a poster
        /// means the current version has a storyboard: <c>/vod/{id}/{version}/storyboard.vtt</c>, immutable per version.
        /// </summary>
        private string? StoryboardPath => Thumbnail == Playback.OwnerThumbnails.PosterPath(Id) && VodPrefix is { } prefix
            ? $"/vod/{Id}/{prefix[(prefix.LastIndexOf('/') + 1)..]}/storyboard.vtt" : null;

        /// <summary>The resource as a viewer who does not own it sees it: why a transcode failed is the owner's to read, and
        /// so are the counts the creator hides. A premium video's comment count is for those who may read its comments
        /// (<see cref="VideoAccess"/>): premium accounts.</summary>
        public Video ToPublicVideo(string[] tags, CaptionInfo[] captions, bool premiumCaller) => ToVideo(tags, captions) with
        {
            FailureReason = null,
            ProcessingProgress = null,
            LikeCount = ReactionsEnabled ? Likes : null,
            DislikeCount = ReactionsEnabled && !DislikesHidden ? Dislikes : null,
            CommentCount = Visibility == Videos.Visibility.Premium && !premiumCaller ? null : CommentCount,
        };
    }

    internal static async Task<Video?> FindAsync(DbSession db, string id, CancellationToken cancellationToken)
    {
        var (row, tags, captions) = await FindRowAsync(db, id, cancellationToken).ConfigureAwait(false);
        return row?.ToVideo(tags, captions);
    }

    /// <summary>The video's row, its tags and captions (the row null when there is no such video).</summary>
    private static async Task<(Row? Row, string[] Tags, CaptionInfo[] Captions)> FindRowAsync(DbSession db, string id, CancellationToken cancellationToken)
    {
        var row = await db.SingleAsync(Select + " WHERE v.id = @id", [("id", id)], Row.Read, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return (null, [], []);
        }

        var tags = await TagsOfAsync(db, [row.Id], cancellationToken).ConfigureAwait(false);
        var captions = await CaptionStore.ListAsync(db, row.Id, cancellationToken).ConfigureAwait(false);
        return (row, tags.TryGetValue(row.Id, out var t) ? [.. t] : [], [.. captions.Select(c => c.ToInfo())]);
    }

    private static async Task<Dictionary<string, List<string>>> TagsOfAsync(DbSession db, List<string> ids, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return result;
        }

        var names = string.Join(", ", ids.Select((_, i) => "@v" + i.ToString(CultureInfo.InvariantCulture)));
        var rows = await db.QueryAsync(
            $"SELECT vt.video_id, t.name FROM video_tags vt JOIN tags t ON t.id = vt.tag_id WHERE vt.video_id IN ({names}) ORDER BY t.name",
            [.. ids.Select((id, i) => ("v" + i.ToString(CultureInfo.InvariantCulture), (object?)id))],
            (r, _) => (r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        foreach (var (video, tag) in rows)
        {
            if (!result.TryGetValue(video, out var list))
            {
                result[video] = list = [];
            }

            list.Add(tag);
        }

        return result;
    }

    private static async Task<IResult> ListAsync(HttpContext context, Database database, OwnerThumbnails thumbnails, string? channel, long? category, string? tag,
        string? sort, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        sort ??= "newest";
        if (sort is not ("newest" or "views" or "title"))
        {
            v.Add("sort", "must be newest, views or title");
        }

        var take = Paging.Limit(limit, v);
        var after = ParseCursor(cursor, sort, v);

        if (!v.IsValid)
        {
            return v.Result();
        }

        var caller = Caller.From(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var where = new List<string>();
        var args = new List<(string, object?)>();
        var seeAll = false;
        if (channel is not null)
        {
            where.Add("v.channel_id = @channel");
            args.Add(("channel", channel));
            var ch = await ChannelEndpoints.FindAsync(db, channel, cancellationToken).ConfigureAwait(false);
            seeAll = ch is not null && caller is not null && caller.OwnsOrAdmin(ch.OwnerId);
        }

        if (!seeAll)
        {
            where.Add("v.visibility = 'public'");
            where.Add(PlayableSql);
        }

        if (category is not null)
        {
            where.Add("v.category_id = @category");
            args.Add(("category", category.Value));
        }

        if (tag is not null)
        {
            where.Add("EXISTS (SELECT 1 FROM video_tags vt JOIN tags t ON t.id = vt.tag_id WHERE vt.video_id = v.id AND t.name = @tag)");
            args.Add(("tag", TagRules.Normalise(tag)));
        }

        var order = sort switch
        {
            "views" => "v.view_count DESC, v.id DESC",
            "title" => "v.title ASC, v.id ASC",
            _ => "v.created_at DESC, v.id DESC",
        };
        if (after is not null)
        {
            where.Add(sort switch
            {
                "views" => "(v.view_count < @ck OR (v.view_count = @ck AND v.id < @cid))",
                "title" => "(v.title > @ck OR (v.title = @ck AND v.id > @cid))",
                _ => "(v.created_at < @ck OR (v.created_at = @ck AND v.id < @cid))",
            });
            args.Add(("ck", after.Key));
            args.Add(("cid", after.Id));
        }

        args.Add(("take", take + 1));
        var sql = $"{Select} {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY {order} LIMIT @take";
        var rows = await db.QueryAsync(sql, [.. args], Row.Read, cancellationToken).ConfigureAwait(false);
        string? next = null;
        if (rows.Count > take)
        {
            rows.RemoveAt(take);
            var last = rows[^1];
            next = Paging.Encode(sort, sort switch
            {
                "views" => last.Views.ToString(CultureInfo.InvariantCulture),
                "title" => last.Title,
                _ => last.CreatedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            }, last.Id);
        }

        var tags = await TagsOfAsync(db, rows.ConvertAll(r => r.Id), cancellationToken).ConfigureAwait(false);
        var premium = !seeAll && rows.Exists(r => r.Visibility == Visibility.Premium) && await IsPremiumAsync(db, caller, cancellationToken).ConfigureAwait(false);
        var captions = await CaptionStore.OfVideosAsync(db, rows.ConvertAll(r => r.Id), cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new VideoPage(rows.ConvertAll(r =>
        {
            string[] rowTags = tags.TryGetValue(r.Id, out var t) ? [.. t] : [];
            CaptionInfo[] rowCaptions = captions.TryGetValue(r.Id, out var c) ? [.. c.Select(x => x.ToInfo())] : [];
            return seeAll ? thumbnails.ForOwner(r.ToVideo(rowTags, rowCaptions), caller!.Id) : r.ToPublicVideo(rowTags, rowCaptions, premium || caller?.OwnsOrAdmin(r.OwnerId) == true);
        }), next));
    }

    /// <summary>A cursor of <see cref="Paging"/> whose key is typed for the sort's column.</summary>
    private sealed record Cursor(object Key, string Id);

    private static Cursor? ParseCursor(string? text, string sort, Validation v)
    {
        if (text is null)
        {
            return null;
        }

        Cursor? cursor = null;
        if (Paging.TryDecode(text, sort, out var key, out var id))
        {
            cursor = sort switch
            {
                "views" => long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? new Cursor(n, id) : null,
                "title" => new Cursor(key, id),
                _ => DateTimeOffset.TryParse(key, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? new Cursor(t, id) : null,
            };
        }

        if (cursor is null)
        {
            v.Add("cursor", "is not a cursor of this listing");
        }

        return cursor;
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, Database database, OwnerThumbnails thumbnails, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (row, rowTags, rowCaptions) = await FindRowAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return Problems.NotFound("video");
        }

        var caller = Caller.From(context.User);
        if (caller is not null && caller.OwnsOrAdmin(row.OwnerId))
        {
            return TypedResults.Ok(thumbnails.ForOwner(row.ToVideo(rowTags, rowCaptions), caller.Id));
        }

        // A private video, or one with nothing to play yet (a draft, a first transcode running or failed), does not
        // exist for anyone but its owner and admins.
        if (row.Visibility == Visibility.Private || !row.IsPlayable)
        {
            return Problems.NotFound("video");
        }

        var premium = row.Visibility == Visibility.Premium && await IsPremiumAsync(db, caller, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(row.ToPublicVideo(rowTags, rowCaptions, premium));
    }

    /// <summary>Whether the caller's account has the premium flag now (false when anonymous).</summary>
    private static async Task<bool> IsPremiumAsync(DbSession db, Caller? caller, CancellationToken cancellationToken) =>
        caller is not null && (await Accounts.MeEndpoints.FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false))?.Premium == true;

    private sealed record Fields(string? Title, string? Description, List<string>? Tags, long? CategoryId, string? Language, string? Visibility);

    private static Fields? ValidateFields(string? title, string? description, string[]? requestTags, long? categoryId, string? requestLanguage,
        string? requestVisibility, bool create, out Validation v)
    {
        v = new Validation();
        title = create || title is not null ? v.Text("title", title, 1, 200) : null;
        description = v.OptionalText("description", description, 5000);
        List<string>? tags = null;
        if (requestTags is not null)
        {
            tags = [];
            foreach (var t in requestTags)
            {
                var n = TagRules.Normalise(t ?? "");
                if (n.Length > TagRules.MaxLength)
                {
                    v.Add("tags", $"a tag is at most {TagRules.MaxLength} characters");
                }
                else if (n.Length > 0 && !tags.Contains(n))
                {
                    tags.Add(n);
                }
            }

            if (tags.Count > TagRules.MaxPerVideo)
            {
                v.Add("tags", $"at most {TagRules.MaxPerVideo} tags");
            }
        }

        var language = requestLanguage?.Trim();
        if (language is not null && (language.Length is < 2 or > 16 || language.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")))
        {
            v.Add("language", "must be a BCP 47 language tag such as en or pt-BR");
        }

        var visibility = requestVisibility ?? (create ? Visibility.Private : null);
        if (visibility is not null && !Visibility.IsValid(visibility))
        {
            v.Add("visibility", "must be public, unlisted, private or premium");
        }

        return v.IsValid ? new Fields(title, description, tags, categoryId, language, visibility) : null;
    }

    private static async Task<IResult> CreateAsync(CreateVideoRequest request, HttpContext context, Database database, ProtectedVideos protectedVideos,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var f = ValidateFields(request.Title, request.Description, request.Tags, request.CategoryId, request.Language, request.Visibility,
            create: true, out var v);
        if (string.IsNullOrEmpty(request.ChannelId))
        {
            v.Add("channelId", "is required");
        }

        if (f is null || !v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var channel = await ChannelEndpoints.FindAsync(db, request.ChannelId!, cancellationToken).ConfigureAwait(false);
        if (channel is null)
        {
            return new Validation().Add("channelId", "no such channel").Result();
        }

        if (!caller.OwnsOrAdmin(channel.OwnerId))
        {
            return Problems.Forbidden("Only the channel's owner or an admin may add videos to it.");
        }

        if (await Moderation.AccountStanding.RefusePublishAsync(db, channel.OwnerId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false) is { } suspended)
        {
            return suspended;
        }

        if (f.CategoryId is not null && !await CategoryExistsAsync(db, f.CategoryId.Value, cancellationToken).ConfigureAwait(false))
        {
            return new Validation().Add("categoryId", "no such category").Result();
        }

        var id = Ids.New();
        var now = time.GetUtcNow();
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            """
            INSERT INTO videos (id, channel_id, title, description, category_id, language, visibility, status, created_at, updated_at, comment_policy)
            VALUES (@id, @c, @t, @d, @cat, @l, @vis, @s, @now, @now, (SELECT comment_policy FROM channels WHERE id = @c))
            """,
            [("id", id), ("c", channel.Id), ("t", f.Title), ("d", f.Description ?? ""), ("cat", f.CategoryId), ("l", f.Language),
             ("vis", f.Visibility), ("s", VideoStatus.Draft), ("now", now)], cancellationToken).ConfigureAwait(false);
        await SetTagsAsync(db, id, f.Tags ?? [], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        protectedVideos.Set(id, f.Visibility!);
        return TypedResults.Created($"/api/v1/videos/{id}", (await FindAsync(db, id, cancellationToken).ConfigureAwait(false))!);
    }

    private static async Task<bool> CategoryExistsAsync(DbSession db, long id, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>("SELECT id FROM categories WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false) is not null;

    internal static async Task SetTagsAsync(DbSession db, string videoId, List<string> tags, CancellationToken cancellationToken)
    {
        await db.ExecAsync("DELETE FROM video_tags WHERE video_id = @v", [("v", videoId)], cancellationToken).ConfigureAwait(false);
        foreach (var tag in tags)
        {
            await db.ExecAsync("INSERT INTO tags (name) VALUES (@n) ON CONFLICT (name) DO NOTHING", [("n", tag)], cancellationToken).ConfigureAwait(false);
            await db.ExecAsync("INSERT INTO video_tags (video_id, tag_id) SELECT @v, id FROM tags WHERE name = @n ON CONFLICT DO NOTHING",
                [("v", videoId), ("n", tag)], cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<IResult> UpdateAsync(string id, UpdateVideoRequest request, HttpContext context, Database database, ProtectedVideos protectedVideos,
        EdgeInvalidations edgeInvalidations, PlaybackRevocations playbackRevocations, VideoPublication publication, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var f = ValidateFields(request.Title, request.Description, request.Tags, request.CategoryId, request.Language, request.Visibility,
            create: false, out var v);
        if (f is null)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var video = await FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (video is null)
        {
            return Problems.NotFound("video");
        }

        if (!caller.OwnsOrAdmin(video.OwnerId))
        {
            return video.Visibility == Visibility.Private ? Problems.NotFound("video") : Problems.Forbidden("Only the video's owner or an admin may change it.");
        }

        if (f.CategoryId is not null && !await CategoryExistsAsync(db, f.CategoryId.Value, cancellationToken).ConfigureAwait(false))
        {
            return new Validation().Add("categoryId", "no such category").Result();
        }

        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (f.Visibility is not null && Visibility.NeedsToken(f.Visibility))
        {
            // Its untokenised answers (public and unlisted play without a token) must leave the edges, with this commit.
            await edgeInvalidations.RecordInAsync(db, id, cancellationToken).ConfigureAwait(false);

            // Viewers who may no longer watch it lose their earlier tokens (made private or premium from another visibility).
            await playbackRevocations.VisibilityChangingInAsync(db, id, f.Visibility, cancellationToken).ConfigureAwait(false);
        }

        await db.ExecAsync(
            """
            UPDATE videos SET title = COALESCE(@t, title), description = COALESCE(@d, description), category_id = COALESCE(@cat, category_id),
                language = COALESCE(@l, language), visibility = COALESCE(@vis, visibility),
                reactions_enabled = COALESCE(@re, reactions_enabled), dislikes_hidden = COALESCE(@dh, dislikes_hidden), updated_at = @now,
                publish_at = CASE WHEN COALESCE(@vis, visibility) IN ('private', 'unlisted') THEN publish_at ELSE NULL END,
                premiere_at = CASE WHEN publish_at IS NOT NULL AND COALESCE(@vis, visibility) NOT IN ('private', 'unlisted') THEN NULL ELSE premiere_at END
            WHERE id = @id
            """,
            [("t", f.Title), ("d", f.Description), ("cat", f.CategoryId), ("l", f.Language), ("vis", f.Visibility),
             ("re", request.ReactionsEnabled), ("dh", request.DislikeCountHidden), ("now", time.GetUtcNow()), ("id", id)], cancellationToken).ConfigureAwait(false);

        // Made public once ready (or live): its first publication, with this commit.
        await publication.PublishIfFirstInAsync(db, id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (f.Tags is not null)
        {
            await SetTagsAsync(db, id, f.Tags, cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        var updated = (await FindAsync(db, id, cancellationToken).ConfigureAwait(false))!;
        protectedVideos.Set(id, updated.Visibility);
        return TypedResults.Ok(updated);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, Database database, ProtectedVideos protectedVideos,
        VideoMedia media, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var video = await FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (video is null)
        {
            return Problems.NotFound("video");
        }

        if (!caller.OwnsOrAdmin(video.OwnerId))
        {
            return video.Visibility == Visibility.Private ? Problems.NotFound("video") : Problems.Forbidden("Only the video's owner or an admin may delete it.");
        }

        // Stop its transcode first (the job row goes with the video, by cascade), then its stored media.
        var removal = await media.PrepareVideoAsync(db, id, cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await protectedVideos.RecordDeletedAsync(db, "id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM videos WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        protectedVideos.Deleted(id);
        await media.RemoveAsync(removal).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
