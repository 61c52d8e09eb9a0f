using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Jobs;

/// <summary><c>/api/v1/videos/{id}/job</c>: the latest transcode job of a video, and cancelling it (owner or admin).</summary>
internal static class JobEndpoints
{
    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/videos/{id}/job").WithTags("Jobs");
        group.MapGet("", GetAsync).RequireAuthorization(Policies.User)
            .Produces<JobInfo>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("", CancelAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, Database database, JobStore jobs, CancellationToken cancellationToken)
    {
        var denied = await CheckOwnerAsync(id, context, database, cancellationToken).ConfigureAwait(false);
        if (denied is not null)
        {
            return denied;
        }

        var job = await jobs.LatestAsync(id, cancellationToken).ConfigureAwait(false);
        return job is null ? Problems.NotFound("job") : TypedResults.Ok(job.ToInfo());
    }

    /// <summary>Idempotent: 204 whether a queued or running job was cancelled now or none was left to cancel.</summary>
    private static async Task<IResult> CancelAsync(string id, HttpContext context, Database database, VideoJobQueue queue, CancellationToken cancellationToken)
    {
        var denied = await CheckOwnerAsync(id, context, database, cancellationToken).ConfigureAwait(false);
        if (denied is not null)
        {
            return denied;
        }

        await queue.CancelAsync(id, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>Owner or admin; a private video does not exist for anyone else (as in <c>/videos/{id}</c>).</summary>
    private static async Task<IResult?> CheckOwnerAsync(string id, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var video = await VideoEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (video is null)
        {
            return Problems.NotFound("video");
        }

        if (!caller.OwnsOrAdmin(video.OwnerId))
        {
            return video.Visibility == Visibility.Private ? Problems.NotFound("video") : Problems.Forbidden("Only the video's owner or an admin may see or cancel its processing.");
        }

        return null;
    }
}
