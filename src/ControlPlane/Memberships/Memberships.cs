using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Payments;

namespace StreamVerse.ControlPlane.Memberships;

/// <param name="Amount">Monthly price in minor units of <paramref name="Currency"/>.</param>
internal sealed record CreateTierRequest(string? Name, long? Amount, string? Perks);

internal sealed record TierResponse(string Id, string ChannelId, string Name, long Amount, string Currency, string Perks, DateTimeOffset CreatedAt);

internal sealed record TierRow(string Id, string ChannelId, string Name, long Amount, string Currency, string Perks, DateTimeOffset CreatedAt)
{
    public const string Columns = "id, channel_id, name, amount, currency, perks, created_at";

    public static TierRow Read(System.Data.Common.DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetString(5), d.ReadTimestamp(r, 6));

    public TierResponse ToResponse() => new(Id, ChannelId, Name, Amount, Currency, Perks, CreatedAt);
}

/// <summary>Membership tiers: a channel's owner defines them (name, monthly price, perks); buying one is a Stripe subscription
/// (<see cref="PaymentEndpoints"/>), and being a member is <see cref="IEntitlements.IsMemberAsync"/>.</summary>
internal static class MembershipStore
{
    public static Task<TierRow?> FindTierAsync(DbSession db, string id, CancellationToken cancellationToken) =>
        db.SingleAsync($"SELECT {TierRow.Columns} FROM membership_tiers WHERE id = @id", [("id", id)], TierRow.Read, cancellationToken);
}

internal static class MembershipEndpoints
{
    public const int MaxTiersPerChannel = 10;

    public static void MapMemberships(IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/channels/{id}/membership-tiers").WithTags("Memberships");
        group.MapGet("", ListAsync).AllowAnonymous().Produces<Page<TierResponse>>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("", CreateAsync).RequireAuthorization(Policies.User).WithBodyLimit(BodyLimit.Account).Produces<TierResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> ListAsync(string id, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ScalarAsync<long?>("SELECT 1 FROM channels WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false) is null)
        {
            return Problems.NotFound("channel");
        }

        // At most MaxTiersPerChannel: one page, never cut.
        var rows = await db.QueryAsync($"SELECT {TierRow.Columns} FROM membership_tiers WHERE channel_id = @id ORDER BY amount, id", [("id", id)], TierRow.Read, cancellationToken)
            .ConfigureAwait(false);
        return TypedResults.Ok(new Page<TierResponse>([.. rows.Select(r => r.ToResponse())], null));
    }

    private static async Task<IResult> CreateAsync(string id, CreateTierRequest request, HttpContext context, Database database, IOptions<PaymentOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var name = v.Text("name", request.Name, 1, 100);
        var perks = v.OptionalText("perks", request.Perks, 2000) ?? "";
        if (request.Amount is null)
        {
            v.Add("amount", "is required");
        }
        else if (request.Amount is < 100 or > 100_000)
        {
            v.Add("amount", "must be between 100 and 100000 (minor units)");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var owner = await db.ScalarAsync<string>("SELECT owner_id FROM channels WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        if (owner is null || !caller.OwnsOrAdmin(owner))
        {
            return owner is null ? Problems.NotFound("channel") : Problems.Forbidden("Only the channel's owner or an admin may do this.");
        }

        if (await db.ScalarAsync<long>("SELECT COUNT(*) FROM membership_tiers WHERE channel_id = @id", [("id", id)], cancellationToken).ConfigureAwait(false) >= MaxTiersPerChannel)
        {
            return Problems.Conflict($"A channel has at most {MaxTiersPerChannel} membership tiers.");
        }

        var row = new TierRow(Ids.New(), id, name, request.Amount!.Value, options.Value.Currency, perks, time.GetUtcNow());
        await db.ExecAsync("INSERT INTO membership_tiers (id, channel_id, name, amount, currency, perks, created_at) VALUES (@id, @ch, @n, @a, @c, @p, @t)",
            [("id", row.Id), ("ch", id), ("n", name), ("a", row.Amount), ("c", row.Currency), ("p", perks), ("t", row.CreatedAt)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/channels/{id}/membership-tiers/{row.Id}", row.ToResponse());
    }
}
