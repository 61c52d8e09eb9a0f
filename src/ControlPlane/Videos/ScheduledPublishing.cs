using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.ControlPlane.Videos;

/// <param name="PublishAt">When the video becomes public: an instant in the future (at most a year ahead).</param>
/// <param name="Premiere">True: a premiere, the video's first showing at <paramref name="PublishAt"/>, watched together (a ready video only).</param>
internal sealed record ScheduleRequest(DateTimeOffset? PublishAt, bool? Premiere = null);

/// <summary>A premiere as its page shows it, before, during and after.</summary>
/// <param name="State"><c>upcoming</c> before <paramref name="PremiereAt"/>, <c>playing</c> until its duration has passed, then <c>ended</c>.</param>
/// <param name="ServerTime">The server's clock when it answered: a client counts down and seeks by the difference to its own.</param>
/// <param name="PositionSeconds">Where everyone is in the video now: seconds since the premiere began (0 before it).</param>
/// <param name="ChatOpen">Whether the premiere's chat takes messages (from its scheduling until the end of its showing).</param>
internal sealed record PremiereResponse(string VideoId, string ChannelId, string Title, DateTimeOffset PremiereAt, DateTimeOffset ServerTime, string State,
    double PositionSeconds, double? DurationSeconds, bool ChatOpen);

/// <summary>Config section <c>StreamVerse:ControlPlane:Publishing</c>.</summary>
internal sealed class PublishingOptions
{
    public const string Section = "StreamVerse:ControlPlane:Publishing";

    /// <summary>How often due videos are looked for (a video becomes public at most this long after its time).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}

internal sealed class PublishingOptionsValidator : IValidateOptions<PublishingOptions>
{
    public ValidateOptionsResult Validate(string? name, PublishingOptions options) =>
        options.CheckInterval < TimeSpan.FromMilliseconds(100) || options.CheckInterval > TimeSpan.FromHours(1)
            ? ValidateOptionsResult.Fail($"{PublishingOptions.Section}:CheckInterval must be between 00:00:00.1 and 01:00:00")
            : ValidateOptionsResult.Success;
}

/// <summary>
/// Scheduled publishing: <c>PUT /videos/{id}/schedule {publishAt}</c> on a private or unlisted video (owner or admin),
/// <c>DELETE</c> to clear it; <see cref="ScheduledPublisher"/> makes it public at the time. The schedule lives in the
/// video's row, so it survives restarts, and every process may run the publisher: the flip is one conditional UPDATE
/// that repeats "due and still private or unlisted", so a video is published once, and a schedule cleared or a
/// visibility changed by its owner meanwhile is never overridden.
/// </summary>
internal static class ScheduleEndpoints
{
    public static void MapSchedule(this RouteGroupBuilder videos)
    {
        videos.MapPut("/{id}/schedule", PutAsync).RequireAuthorization(Policies.User).Produces<Video>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        videos.MapGet("/{id}/premiere", GetPremiereAsync).AllowAnonymous().Produces<PremiereResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        videos.MapDelete("/{id}/schedule", DeleteAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
    }

    public static IServiceCollection AddScheduledPublishing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PublishingOptions>().Bind(configuration.GetSection(PublishingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PublishingOptions>, PublishingOptionsValidator>();
        services.AddHostedService<ScheduledPublisher>();
        return services;
    }

    private static async Task<IResult> PutAsync(string id, ScheduleRequest request, HttpContext context, Database database, OwnerThumbnails thumbnails,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var v = new Validation();
        if (request.PublishAt is not { } at)
        {
            v.Add("publishAt", "is required: an instant in the future (ISO 8601 with an offset)");
        }
        else if (at <= now)
        {
            v.Add("publishAt", "must be in the future");
        }
        else if (at > now.AddYears(1))
        {
            v.Add("publishAt", "must be at most a year ahead");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (video, refused) = await LoadOwnAsync(db, id, context, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        // A premiere shows the finished video to everyone at once: only a ready one (its full ladder published) may have one.
        var premiere = request.Premiere == true;
        var n = await db.ExecAsync(
            """
            UPDATE videos SET publish_at = @at, premiere_at = CASE WHEN @premiere = 1 THEN @at ELSE NULL END, updated_at = @now
            WHERE id = @id AND visibility IN ('private', 'unlisted') AND (@premiere = 0 OR (status = 'ready' AND vod_prefix IS NOT NULL))
            """,
            [("at", request.PublishAt!.Value), ("premiere", premiere ? 1 : 0), ("now", now), ("id", id)], cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            return video!.Visibility is not (Visibility.Private or Visibility.Unlisted)
                ? Problems.Conflict($"Only a private or unlisted video can be scheduled; this one is {video.Visibility}.")
                : Problems.Conflict($"Only a ready video can premiere; this one is {video.Status}.");
        }

        var updated = await VideoEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        return updated is null ? Problems.NotFound("video") : TypedResults.Ok(thumbnails.ForOwner(updated, Caller.Require(context.User).Id));
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, refused) = await LoadOwnAsync(db, id, context, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        // A premiere not yet shown goes with its schedule; one that happened stays in the record.
        await db.ExecAsync("UPDATE videos SET publish_at = NULL, premiere_at = NULL, updated_at = @now WHERE id = @id AND publish_at IS NOT NULL",
            [("now", time.GetUtcNow()), ("id", id)], cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// A premiere announces itself: anyone may read it by the video's id while it is scheduled (the video itself stays private or
    /// unlisted until the time), and afterwards while the video is public or unlisted. A video moderated away, made premium or
    /// made private again after it has none.
    /// </summary>
    internal const string PremiereSql =
        """
        SELECT v.id, v.channel_id, v.title, v.premiere_at, v.duration_seconds
        FROM videos v
        WHERE v.id = @id AND v.premiere_at IS NOT NULL AND v.moderation IS NULL
          AND (v.visibility IN ('public', 'unlisted') OR (v.visibility = 'private' AND v.publish_at IS NOT NULL))
        """;

    private static async Task<IResult> GetPremiereAsync(string id, Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var premiere = await db.SingleAsync(PremiereSql, [("id", id)], (r, d) =>
        {
            var at = d.ReadTimestamp(r, 3);
            double? duration = r.IsDBNull(4) ? null : r.GetDouble(4);
            var end = at + TimeSpan.FromSeconds(duration ?? 0);
            var state = now < at ? "upcoming" : now < end ? "playing" : "ended";
            return new PremiereResponse(r.GetString(0), r.GetString(1), r.GetString(2), at, now, state, Math.Max(0, (now - at).TotalSeconds), duration, now < end);
        }, cancellationToken).ConfigureAwait(false);
        return premiere is null ? Problems.NotFound("premiere") : TypedResults.Ok(premiere);
    }

    private static async Task<(Video? Video, IResult? Problem)> LoadOwnAsync(DbSession db, string id, HttpContext context, CancellationToken cancellationToken)
    {
        var video = await VideoEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (video is null)
        {
            return (null, Problems.NotFound("video"));
        }

        return Caller.Require(context.User).OwnsOrAdmin(video.OwnerId)
            ? (video, null)
            : (null, video.Visibility == Visibility.Private ? Problems.NotFound("video") : Problems.Forbidden("Only the video's owner or an admin may schedule it."));
    }
}

/// <summary>Makes due scheduled videos public; a failed round is logged and retried at the next interval, never ends the loop.</summary>
internal sealed partial class ScheduledPublisher(Database database, ProtectedVideos protectedVideos, VideoPublication publication, IOptions<PublishingOptions> options, TimeProvider time,
    ILogger<ScheduledPublisher> logger) : BackgroundService
{
    /// <summary>The flip: conditional on the schedule being due and the video still private or unlisted (see <see cref="ScheduleEndpoints"/>).</summary>
    private const string PublishDueSql =
        """
        UPDATE videos SET visibility = 'public', publish_at = NULL, updated_at = @now
        WHERE publish_at IS NOT NULL AND publish_at <= @now AND visibility IN ('private', 'unlisted')
        RETURNING id
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PublishDueAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                Log.Failed(logger, e);
            }

            try
            {
                await Task.Delay(options.Value.CheckInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Publishes every due video; returns their ids.</summary>
    internal async Task<List<string>> PublishDueAsync(CancellationToken cancellationToken)
    {
        List<string> ids;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            // One transaction: a video that becomes public ready for the first time writes its VideoPublished with the flip.
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            ids = await db.QueryAsync(PublishDueSql, [("now", now)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
            foreach (var id in ids)
            {
                await publication.PublishIfFirstInAsync(db, id, now, cancellationToken).ConfigureAwait(false);
            }

            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var id in ids)
        {
            // A private video was protected (token-only) in this process; other processes see it on their next refresh.
            protectedVideos.Set(id, Visibility.Public);
            Log.Published(logger, id);
        }

        return ids;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5210, Level = LogLevel.Information, Message = "Scheduled video {VideoId} is now public")]
        public static partial void Published(ILogger logger, string videoId);

        [LoggerMessage(EventId = 5211, Level = LogLevel.Warning, Message = "Scheduled publishing round failed; retried at the next interval")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
