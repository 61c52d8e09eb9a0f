using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>
/// The caller's notifications (<c>/api/v1/me/notifications</c>), their settings (<c>/api/v1/me/notification-settings</c>),
/// Web Push devices (<c>/api/v1/me/push-subscriptions</c>) and the VAPID public key (<c>/api/v1/push/vapid-public-key</c>).
/// </summary>
internal static class NotificationEndpoints
{
    public static IEndpointRouteBuilder MapNotifications(this IEndpointRouteBuilder api)
    {
        var me = api.MapGroup("/me").WithTags("Notifications").RequireAuthorization(Policies.User);
        me.MapGet("/notifications", ListAsync).Produces<Page<NotificationResponse>>().ProducesValidationProblem();
        me.MapGet("/notifications/unread-count", UnreadAsync).Produces<UnreadCount>();
        me.MapPost("/notifications/{id}/read", MarkReadAsync).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        me.MapPost("/notifications/read-all", MarkAllReadAsync).Produces<MarkedRead>();
        me.MapGet("/notification-settings", SettingsAsync).Produces<NotificationSettingsResponse>();
        me.MapPut("/notification-settings", UpdateSettingsAsync).Produces<NotificationSettingsResponse>().ProducesValidationProblem();
        me.MapPost("/push-subscriptions", SubscribeAsync).Produces<PushSubscriptionResponse>(StatusCodes.Status201Created).ProducesValidationProblem();
        me.MapDelete("/push-subscriptions", UnsubscribeAsync).Produces(StatusCodes.Status204NoContent).ProducesValidationProblem();
        api.MapGroup("/push").WithTags("Notifications")
            .MapGet("/vapid-public-key", (VapidKeys keys) => TypedResults.Ok(new VapidPublicKey(keys.PublicKey))).AllowAnonymous().Produces<VapidPublicKey>();
        return api;
    }

    private static async Task<IResult> ListAsync(HttpContext context, NotificationStore store, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var (_, id) = Paging.After(cursor, NotificationStore.Sort, v);
        var before = long.MaxValue;
        if (id is not null && !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out before))
        {
            v.Add("cursor", "is not a cursor of this listing");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        return TypedResults.Ok(await store.MineAsync(Caller.Require(context.User).Id, before, take, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> UnreadAsync(HttpContext context, NotificationStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(new UnreadCount(await store.UnreadAsync(Caller.Require(context.User).Id, cancellationToken).ConfigureAwait(false)));

    /// <summary>Idempotent: 204 again for one already read; 404 for an id that is not one of the caller's.</summary>
    private static async Task<IResult> MarkReadAsync(string id, HttpContext context, NotificationStore store, CancellationToken cancellationToken) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
        && await store.MarkReadAsync(Caller.Require(context.User).Id, n, cancellationToken).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : Problems.NotFound("notification");

    private static async Task<IResult> MarkAllReadAsync(HttpContext context, NotificationStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(new MarkedRead(await store.MarkAllReadAsync(Caller.Require(context.User).Id, cancellationToken).ConfigureAwait(false)));

    private static async Task<IResult> SettingsAsync(HttpContext context, NotificationStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.SettingsAsync(Caller.Require(context.User).Id, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> UpdateSettingsAsync(UpdateNotificationSettingsRequest? request, HttpContext context, NotificationStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if ((request ?? new UpdateNotificationSettingsRequest(null)).Validate(v) is not { } changes)
        {
            return v.Result();
        }

        return TypedResults.Ok(await store.UpdateSettingsAsync(Caller.Require(context.User).Id, changes, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Registers (or re-registers) a device; an endpoint already registered moves to the caller with the new keys.</summary>
    private static async Task<IResult> SubscribeAsync(PushSubscriptionRequest? request, HttpContext context, PushSubscriptionStore store,
        Microsoft.Extensions.Options.IOptions<NotificationOptions> options, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (PushDevice.Validate(request, options.Value, v) is not { } device)
        {
            return v.Result();
        }

        var created = await store.AddAsync(Caller.Require(context.User).Id, device, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created((string?)null, created);
    }

    /// <summary>204 whether or not the caller had that endpoint registered.</summary>
    private static async Task<IResult> UnsubscribeAsync(string? endpoint, HttpContext context, PushSubscriptionStore store, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(endpoint) || endpoint.Length > PushDevice.MaxEndpointLength)
        {
            return new Validation().Add("endpoint", $"is required (the push endpoint to forget, at most {PushDevice.MaxEndpointLength} characters)").Result();
        }

        await store.RemoveAsync(Caller.Require(context.User).Id, endpoint, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
