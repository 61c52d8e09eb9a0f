using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Payments;

namespace StreamVerse.ControlPlane.Ledger;

/// <param name="AccountId">The channel's Stripe Connect account (<c>acct_...</c>) payouts are transferred to.</param>
internal sealed record PayoutAccountRequest(string? AccountId);

internal sealed record PayoutAccountResponse(string ChannelId, string AccountId);

/// <param name="Paid">Transfers made: channel, amount, currency, Stripe transfer id.</param>
internal sealed record PayoutRunResponse(List<PayoutResponse> Paid);

internal sealed record PayoutResponse(string ChannelId, long Amount, string Currency, string TransferId);

internal sealed record MonthCloseResponse(string Month, int PoolsClosed);

/// <summary>
/// Statements (a creator's month: JSON, CSV or a printable page), the platform report, the month close and payouts.
/// </summary>
internal static partial class LedgerEndpoints
{
    public static void MapLedger(IEndpointRouteBuilder api)
    {
        api.MapGet("/me/statements/{month}", StatementAsync).WithTags("Ledger").RequireAuthorization(Policies.User)
            .Produces<StatementResponse>().Produces(StatusCodes.Status200OK, contentType: "text/csv").Produces(StatusCodes.Status200OK, contentType: "text/html")
            .ProducesValidationProblem();
        api.MapPut("/channels/{id}/payout-account", SetPayoutAccountAsync).WithTags("Ledger").RequireAuthorization(Policies.User).WithBodyLimit(BodyLimit.Account)
            .Produces<PayoutAccountResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        var admin = api.MapGroup("/admin/ledger").WithTags("Ledger").RequireAuthorization(Policies.Admin);
        admin.MapGet("/reports/{month}", ReportAsync).Produces<PlatformReport>().ProducesValidationProblem();
        admin.MapPost("/months/{month}/close", CloseAsync).Produces<MonthCloseResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/payouts", PayoutsAsync).Produces<PayoutRunResponse>().ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static IResult BadMonth() => new Validation().Add("month", "must be a month as yyyy-MM").Result();

    private static async Task<IResult> StatementAsync(string month, string? format, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        if (!RevenueSharing.TryParseMonth(month, out var from))
        {
            return BadMonth();
        }

        if (format is not (null or "json" or "csv" or "html"))
        {
            return new Validation().Add("format", "must be json, csv or html").Result();
        }

        var caller = Caller.Require(context.User);
        var to = from.AddMonths(1);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var channels = await db.QueryAsync("SELECT id, name FROM channels WHERE owner_id = @me ORDER BY id", [("me", caller.Id)],
            (r, _) => (Id: r.GetString(0), Name: r.GetString(1)), cancellationToken).ConfigureAwait(false);
        var statements = new List<ChannelStatement>();
        foreach (var (id, name) in channels)
        {
            statements.Add(await LedgerStore.StatementAsync(db, id, name, from, to, cancellationToken).ConfigureAwait(false));
        }

        var response = new StatementResponse(RevenueSharing.Month(from), from, to, statements);
        return format switch
        {
            "csv" => TypedResults.Text(Csv(response), "text/csv; charset=utf-8"),
            "html" => TypedResults.Text(Html(response), "text/html; charset=utf-8"),
            _ => TypedResults.Ok(response),
        };
    }

    private static readonly string[] Columns = ["channel_id", "channel", "currency", "opening", "earnings", "premium_pool", "refunds", "disputes", "payouts", "closing", "pending", "available"];

    private static IEnumerable<string[]> Rows(StatementResponse s) =>
        s.Channels.SelectMany(ch => ch.Currencies.Select(c => new[]
        {
            ch.ChannelId, ch.ChannelName, c.Currency, N(c.Opening), N(c.Earnings), N(c.PremiumPool), N(c.Refunds), N(c.Disputes), N(c.Payouts), N(c.Closing), N(c.Pending),
            N(c.Available),
        }));

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 4180: CRLF lines, fields quoted when they hold a quote, comma or line break. Amounts in minor units.</summary>
    private static string Csv(StatementResponse s)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Columns)).Append("\r\n");
        foreach (var row in Rows(s))
        {
            sb.Append(string.Join(',', row.Select(Field))).Append("\r\n");
        }

        return sb.ToString();

        // Amounts (minor units, possibly negative) are numbers; everything else is text, defused like every CSV field we write.
        static string Field(string f) => long.TryParse(f, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? f : CsvField.Text(f);
    }

    private static string Html(StatementResponse s)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Statement ").Append(s.Month).Append("</title>")
            .Append("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 8px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}@media print{button{display:none}}</style></head><body>")
            .Append("<h1>Statement ").Append(s.Month).Append("</h1><p>Amounts in minor units (cents). Opening + earnings + premium pool &minus; refunds &minus; disputes &minus; payouts = closing.</p>")
            .Append("<table><thead><tr>");
        foreach (var c in Columns.Skip(1))
        {
            sb.Append("<th>").Append(WebUtility.HtmlEncode(c)).Append("</th>");
        }

        sb.Append("</tr></thead><tbody>");
        foreach (var row in Rows(s))
        {
            sb.Append("<tr>");
            foreach (var f in row.Skip(1))
            {
                sb.Append("<td>").Append(WebUtility.HtmlEncode(f)).Append("</td>");
            }

            sb.Append("</tr>");
        }

        return sb.Append("</tbody></table></body></html>").ToString();
    }

    private static async Task<IResult> SetPayoutAccountAsync(string id, PayoutAccountRequest request, HttpContext context, Database database,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var account = v.Text("accountId", request.AccountId, 1, 255);
        if (v.IsValid && !account.StartsWith("acct_", StringComparison.Ordinal))
        {
            v.Add("accountId", "must be a Stripe Connect account id (acct_...)");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var owner = await db.ScalarAsync<string>("SELECT owner_id FROM channels WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        if (owner is null || !caller.OwnsOrAdmin(owner))
        {
            return owner is null ? Problems.NotFound("channel") : Problems.Forbidden("Only the channel's owner or an admin may do this.");
        }

        await db.ExecAsync(
            "INSERT INTO payout_accounts (channel_id, processor, account_id) VALUES (@id, 'stripe', @a) ON CONFLICT (channel_id) DO UPDATE SET account_id = excluded.account_id",
            [("id", id), ("a", account)], cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new PayoutAccountResponse(id, account));
    }

    private static async Task<IResult> ReportAsync(string month, Database database, LedgerStore ledger, CancellationToken cancellationToken)
    {
        if (!RevenueSharing.TryParseMonth(month, out var from))
        {
            return BadMonth();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var accounts = await db.QueryAsync(
            """
            SELECT CASE WHEN account LIKE 'platform:premium-pool:%' THEN 'platform:premium-pool' ELSE account END, currency, SUM(amount)
            FROM ledger_lines WHERE posted_at >= @from AND posted_at < @to
            GROUP BY CASE WHEN account LIKE 'platform:premium-pool:%' THEN 'platform:premium-pool' ELSE account END, currency
            ORDER BY 1, 2
            """, [("from", from), ("to", from.AddMonths(1))], (r, _) => new AccountTotal(r.GetString(0), r.GetString(1), r.GetInt64(2)), cancellationToken).ConfigureAwait(false);
        var trial = (await ledger.TrialBalanceAsync(cancellationToken).ConfigureAwait(false)).Select(t => new AccountTotal("*", t.Currency, t.Sum)).ToList();
        return TypedResults.Ok(new PlatformReport(RevenueSharing.Month(from), accounts, trial));
    }

    private static async Task<IResult> CloseAsync(string month, LedgerStore ledger, IPremiumWatchTime watchTime, IOptions<PaymentOptions> options, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!RevenueSharing.TryParseMonth(month, out var from))
        {
            return BadMonth();
        }

        if (from.AddMonths(1) > time.GetUtcNow())
        {
            return Problems.Conflict("A month can be closed once it has ended.");
        }

        var o = options.Value;
        var n = await ledger.ClosePremiumMonthAsync(from, watchTime, new SharingRules(o.CreatorShareBasisPoints, o.PremiumPoolBasisPoints, o.HoldPeriod), cancellationToken)
            .ConfigureAwait(false);
        return TypedResults.Ok(new MonthCloseResponse(RevenueSharing.Month(from), n));
    }

    /// <summary>
    /// Pays every channel whose available balance reaches <see cref="PaymentOptions.PayoutMinimum"/> and that has a payout
    /// account: a Connect transfer (transfer group = the payout's id, idempotency key = the same), then the entry moving the
    /// amount out of available and out of clearing. The transfer's key makes a rerun after a crash reuse the same transfer,
    /// and the entry's source (the transfer id) books it once.
    /// </summary>
    private static async Task<IResult> PayoutsAsync(Database database, StripeGateway stripe, IOptions<PaymentOptions> options, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!stripe.Enabled)
        {
            return Problems.Conflict("Payments are not configured on this server.");
        }

        // What may be paid is the available balance, but never more than the whole balance: a refund or dispute that came
        // after the hold ended leaves pending negative, and that debt is netted first.
        List<(string Channel, string Currency, long Available, string Account, long Entries)> due;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            due = (await db.QueryAsync(
                """
                SELECT l.channel_id, l.currency, -SUM(CASE WHEN l.account = 'creator:available' THEN l.amount ELSE 0 END), -SUM(l.amount), a.account_id, COUNT(*)
                FROM ledger_lines l JOIN payout_accounts a ON a.channel_id = l.channel_id
                WHERE l.account IN ('creator:available', 'creator:pending')
                GROUP BY l.channel_id, l.currency, a.account_id
                ORDER BY l.channel_id, l.currency
                """, [], (r, _) => (Channel: r.GetString(0), Currency: r.GetString(1), Available: Math.Min(r.GetInt64(2), r.GetInt64(3)), Account: r.GetString(4),
                    Entries: r.GetInt64(5)), cancellationToken).ConfigureAwait(false))
                .Where(d => d.Available >= options.Value.PayoutMinimum).ToList();
        }

        var paid = new List<PayoutResponse>();
        foreach (var (channel, currency, available, account, entries) in due)
        {
            // The key names the balance it pays (channel, currency, how many lines it sums): a rerun before the entry is booked
            // reuses the same transfer, and a later balance is a new payout.
            var group = $"payout-{channel}-{currency}-{entries.ToString(CultureInfo.InvariantCulture)}";
            var transfer = await stripe.TransferAsync(account, available, currency, group, group, cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            await LedgerStore.PostInAsync(db, new JournalEntry("stripe:" + transfer.Id, EntryKind.Payout, "payout " + group,
            [
                new(LedgerAccounts.CreatorAvailable, channel, currency, available),
                new(LedgerAccounts.Clearing(StripeGateway.Processor), null, currency, -available),
            ]), now, cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            paid.Add(new PayoutResponse(channel, available, currency, transfer.Id));
        }

        return TypedResults.Ok(new PayoutRunResponse(paid));
    }
}
