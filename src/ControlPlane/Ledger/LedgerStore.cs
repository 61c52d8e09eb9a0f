using System.Globalization;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Ledger;

/// <summary>
/// The journal: append-only, balanced, idempotent. Invariants (held by the code and again by the database,
/// <see cref="Payments.PaymentSchema"/>): every entry's lines sum to zero per currency; an entry's <c>source_id</c> is
/// unique, so posting the same money event twice posts it once; nothing is ever updated or deleted (a correction is a new
/// entry). A creator's balance is the negated sum of their pending and available lines (liabilities are credits).
/// </summary>
internal sealed partial class LedgerStore(Database database, TimeProvider time, ILogger<LedgerStore> logger)
{
    private const string InsertLine = """
        INSERT INTO ledger_lines (entry_id, account, channel_id, currency, amount, posted_at, available_at)
        VALUES (@e, @a, @ch, @cur, @amt, @at, @avail)
        """;

    private const string InsertEntry = "INSERT INTO ledger_entries (id, source_id, kind, posted_at, memo) VALUES (@id, @s, @k, @at, @m)";

    /// <summary>
    /// Posts <paramref name="entry"/> inside the caller's transaction, unless its source was posted already. Returns false
    /// for a replay. Throws on an unbalanced entry (a bug: nothing is written).
    /// </summary>
    public static async Task<bool> PostInAsync(DbSession db, JournalEntry entry, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (!db.InTransaction)
        {
            throw new InvalidOperationException("a ledger entry is posted inside the transaction of the event it records");
        }

        if (!entry.IsBalanced)
        {
            throw new InvalidOperationException($"ledger entry {entry.SourceId} does not balance");
        }

        if (await db.ScalarAsync<long?>("SELECT 1 FROM ledger_entries WHERE source_id = @s", [("s", entry.SourceId)], cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }

        var id = Ids.New();
        foreach (var l in entry.Lines)
        {
            await db.ExecAsync(InsertLine, [("e", id), ("a", l.Account), ("ch", l.ChannelId), ("cur", l.Currency), ("amt", l.Amount), ("at", at), ("avail", l.AvailableAt)],
                cancellationToken).ConfigureAwait(false);
        }

        await db.ExecAsync(InsertEntry, [("id", id), ("s", entry.SourceId), ("k", entry.Kind), ("at", at), ("m", entry.Memo)], cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Creator earnings whose hold has ended move from pending to available, one entry per line (idempotent by its id).</summary>
    public async Task<int> ReleaseDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var due = await db.QueryAsync(
            """
            SELECT l.id, l.channel_id, l.currency, l.amount FROM ledger_lines l
            WHERE l.account = 'creator:pending' AND l.available_at IS NOT NULL AND l.available_at <= @now
              AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.source_id = 'release:' || CAST(l.id AS VARCHAR(20)))
            ORDER BY l.id
            """, [("now", now)], (r, _) => (Id: r.GetInt64(0), Channel: r.IsDBNull(1) ? null : r.GetString(1), Currency: r.GetString(2), Amount: r.GetInt64(3)),
            cancellationToken).ConfigureAwait(false);
        var n = 0;
        foreach (var line in due)
        {
            var entry = new JournalEntry("release:" + line.Id.ToString(CultureInfo.InvariantCulture), EntryKind.Release, "hold ended",
            [
                new(LedgerAccounts.CreatorPending, line.Channel, line.Currency, -line.Amount),
                new(LedgerAccounts.CreatorAvailable, line.Channel, line.Currency, line.Amount),
            ]);
            n += await PostInAsync(db, entry, now, cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return n;
    }

    /// <summary>
    /// Closes a month's Premium pool: every currency's pool balance is split by premium watch time. Idempotent (the entry's
    /// source is the month and currency); a close before the month has ended is refused by the caller.
    /// </summary>
    public async Task<int> ClosePremiumMonthAsync(DateTimeOffset monthStart, IPremiumWatchTime watchTime, SharingRules rules, CancellationToken cancellationToken)
    {
        var month = RevenueSharing.Month(monthStart);
        var watch = await watchTime.ForMonthAsync(monthStart, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var pools = await db.QueryAsync("SELECT currency, SUM(amount) FROM ledger_lines WHERE account = @a GROUP BY currency ORDER BY currency",
            [("a", LedgerAccounts.PremiumPool(month))], (r, _) => (Currency: r.GetString(0), Balance: r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
        var n = 0;
        foreach (var (currency, balance) in pools)
        {
            // The pool is a credit balance (negative); allocating it debits it back to zero.
            if (balance < 0 && await PostInAsync(db, RevenueSharing.PoolAllocation(month, currency, -balance, watch, now, rules), now, cancellationToken).ConfigureAwait(false))
            {
                n++;
                Log.PoolClosed(logger, month, currency, -balance, watch.Count);
            }
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return n;
    }

    /// <summary>Every currency's sum of all lines: zero when the ledger balances (what the property tests and the admin report check).</summary>
    public async Task<List<(string Currency, long Sum)>> TrialBalanceAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.QueryAsync("SELECT currency, SUM(amount) FROM ledger_lines GROUP BY currency ORDER BY currency", [],
            (r, _) => (r.GetString(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One channel's creator lines in [from, to): (kind, account, currency, amount) summed, plus the opening balances.</summary>
    public static async Task<ChannelStatement> StatementAsync(DbSession db, string channelId, string channelName, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        var opening = await db.QueryAsync(
            """
            SELECT currency, SUM(amount) FROM ledger_lines
            WHERE channel_id = @ch AND account IN ('creator:pending', 'creator:available') AND posted_at < @from
            GROUP BY currency
            """, [("ch", channelId), ("from", from)], (r, _) => (Currency: r.GetString(0), Sum: r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
        var moves = await db.QueryAsync(
            """
            SELECT l.currency, e.kind, l.account, SUM(l.amount) FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
            WHERE l.channel_id = @ch AND l.account IN ('creator:pending', 'creator:available') AND l.posted_at >= @from AND l.posted_at < @to
            GROUP BY l.currency, e.kind, l.account
            """, [("ch", channelId), ("from", from), ("to", to)],
            (r, _) => (Currency: r.GetString(0), Kind: r.GetString(1), Account: r.GetString(2), Sum: r.GetInt64(3)), cancellationToken).ConfigureAwait(false);
        var closing = await db.QueryAsync(
            """
            SELECT currency, account, SUM(amount) FROM ledger_lines
            WHERE channel_id = @ch AND account IN ('creator:pending', 'creator:available') AND posted_at < @to
            GROUP BY currency, account
            """, [("ch", channelId), ("to", to)], (r, _) => (Currency: r.GetString(0), Account: r.GetString(1), Sum: r.GetInt64(2)), cancellationToken).ConfigureAwait(false);

        var currencies = opening.Select(o => o.Currency).Concat(moves.Select(m => m.Currency)).Concat(closing.Select(c => c.Currency))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var totals = new List<CurrencyStatement>();
        foreach (var cur in currencies)
        {
            // Liabilities are credits: a creator's balance is the negated sum.
            long Moved(string kind) => -moves.Where(m => m.Currency == cur && m.Kind == kind).Sum(m => m.Sum);
            var open = -opening.Where(o => o.Currency == cur).Sum(o => o.Sum);
            var pending = -closing.Where(c => c.Currency == cur && c.Account == LedgerAccounts.CreatorPending).Sum(c => c.Sum);
            var available = -closing.Where(c => c.Currency == cur && c.Account == LedgerAccounts.CreatorAvailable).Sum(c => c.Sum);
            totals.Add(new CurrencyStatement(cur, open, Moved(EntryKind.Sale), Moved(EntryKind.PoolAllocation), -Moved(EntryKind.Refund), -Moved(EntryKind.Dispute),
                -Moved(EntryKind.Payout), pending + available, pending, available));
        }

        return new ChannelStatement(channelId, channelName, totals);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6850, Level = LogLevel.Information, Message = "Premium pool {Month} ({Currency}) closed: {Amount} minor units over {Channels} channels")]
        public static partial void PoolClosed(ILogger logger, string month, string currency, long amount, int channels);
    }
}

/// <summary>One currency of a channel's month. <c>Opening + Earnings + PremiumPool - Refunds - Disputes - Payouts = Closing</c>, always
/// (releases move money from pending to available and change neither); <c>Closing = Pending + Available</c>.</summary>
/// <param name="Earnings">The creator's share of memberships and tips paid in the month (after the fee and the platform's share).</param>
/// <param name="PremiumPool">The channel's part of the Premium pool allocated in the month.</param>
/// <param name="Disputes">Moved to frozen while a dispute is open.</param>
internal sealed record CurrencyStatement(string Currency, long Opening, long Earnings, long PremiumPool, long Refunds, long Disputes, long Payouts, long Closing,
    long Pending, long Available);

internal sealed record ChannelStatement(string ChannelId, string ChannelName, List<CurrencyStatement> Currencies);

/// <summary><c>GET /api/v1/me/statements/{month}</c>: the caller's channels.</summary>
internal sealed record StatementResponse(string Month, DateTimeOffset From, DateTimeOffset To, List<ChannelStatement> Channels);

/// <param name="Accounts">Per account (creator accounts summed over channels) and currency: the month's movement (debits positive).</param>
/// <param name="TrialBalance">Every currency's sum of all lines ever: all zero.</param>
internal sealed record PlatformReport(string Month, List<AccountTotal> Accounts, List<AccountTotal> TrialBalance);

internal sealed record AccountTotal(string Account, string Currency, long Amount);
