using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>
/// <see cref="MailOptions.RequireVerifiedEmailToPublish"/> as an endpoint filter on what publishes (creating a video,
/// an upload, a source, a stream key): with mail on and the rule on, a caller whose e-mail is not verified gets a 403
/// problem that says why. Admins are exempt; without mail nothing can be verified, so nothing is held back. The
/// database decides (a token does not say whether the e-mail is verified), one indexed read per such request.
/// </summary>
internal static class VerifiedEmail
{
    public const string Detail = "Verify your e-mail address before publishing: follow the link we mailed you, or ask for a new one (POST /api/v1/auth/verify-email/resend).";

    public static RouteHandlerBuilder RequireVerifiedEmail(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var options = http.RequestServices.GetRequiredService<IOptions<MailOptions>>().Value;
            if (options.Enabled && options.RequireVerifiedEmailToPublish && http.User.Identity?.IsAuthenticated == true)
            {
                var caller = Caller.Require(http.User);
                if (!caller.IsAdmin)
                {
                    await using var db = await http.RequestServices.GetRequiredService<Database>().OpenAsync(http.RequestAborted).ConfigureAwait(false);
                    if (await db.ScalarAsync<long?>("SELECT 1 FROM users WHERE id = @id AND email_verified_at IS NOT NULL", [("id", caller.Id)], http.RequestAborted)
                        .ConfigureAwait(false) is null)
                    {
                        return Problems.Forbidden(Detail);
                    }
                }
            }

            return await next(context).ConfigureAwait(false);
        }).ProducesProblem(StatusCodes.Status403Forbidden);
}
