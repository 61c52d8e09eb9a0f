namespace StreamVerse.ControlPlane.Ledger;

/// <summary>What a payment is for: Premium feeds the month's pool; memberships and tips go to one channel.</summary>
internal static class Product
{
    public const string Premium = "premium";
    public const string Membership = "membership";
    public const string Tip = "tip";
}

/// <summary>The sharing rules as configured (basis points of the amount after the processor's fee).</summary>
internal sealed record SharingRules(int CreatorShareBasisPoints, int PremiumPoolBasisPoints, TimeSpan HoldPeriod);

/// <summary>
/// Turns money events into balanced entries. For any payment: creator share + platform (revenue less fee) + fee = gross,
/// exactly, because every split is a <see cref="Allocation.LargestRemainder"/> of an integer.
/// </summary>
internal static class RevenueSharing
{
    /// <summary>
    /// A payment of <paramref name="gross"/> of which the processor kept <paramref name="fee"/>. Membership/tip: the creator's
    /// share of the net goes to the channel's pending balance (available after the hold); Premium: the pool's share of the net
    /// goes to the month's pool. The rest is platform revenue (gross of the fee, which is booked as the fee expense).
    /// Returns the entry and the creator's (or pool's) part.
    /// </summary>
    public static (JournalEntry Entry, long Share) Sale(string sourceId, string processor, string product, string? channelId, string currency, long gross, long fee,
        DateTimeOffset paidAt, SharingRules rules)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gross);
        fee = Math.Clamp(fee, 0, gross);
        var net = gross - fee;
        var lines = new List<LedgerLine>
        {
            new(LedgerAccounts.Clearing(processor), null, currency, net),
            new(LedgerAccounts.Fees(processor), null, currency, fee),
        };
        long share;
        if (product == Product.Premium)
        {
            share = Allocation.LargestRemainder(net, [rules.PremiumPoolBasisPoints, 10_000 - rules.PremiumPoolBasisPoints])[0];
            lines.Add(new(LedgerAccounts.PremiumPool(Month(paidAt)), null, currency, -share));
        }
        else
        {
            share = Allocation.LargestRemainder(net, [rules.CreatorShareBasisPoints, 10_000 - rules.CreatorShareBasisPoints])[0];
            lines.Add(new(LedgerAccounts.CreatorPending, channelId, currency, -share, paidAt + rules.HoldPeriod));
        }

        lines.Add(new(LedgerAccounts.PlatformRevenue, null, currency, -(gross - share)));
        return (new JournalEntry(sourceId, EntryKind.Sale, $"{product} payment", lines).WithoutZeroLines(), share);
    }

    /// <summary>
    /// A refund of <paramref name="amount"/> of a payment: the processor keeps its fee, so the money leaves the clearing
    /// account and is taken back from the creator in the proportion of the original split (of a membership or tip), the
    /// rest from the platform. A Premium refund is the platform's alone (a closed pool is not reopened).
    /// </summary>
    public static JournalEntry Refund(string sourceId, string processor, string product, string? channelId, string currency, long gross, long creatorShare,
        long amount, DateTimeOffset at)
    {
        var fromCreator = product == Product.Premium || gross == 0 ? 0 : Allocation.LargestRemainder(amount, [creatorShare, gross - creatorShare])[0];
        return new JournalEntry(sourceId, EntryKind.Refund, $"{product} refund",
        [
            new(LedgerAccounts.Clearing(processor), null, currency, -amount),
            new(LedgerAccounts.CreatorPending, channelId, currency, fromCreator, at),
            new(LedgerAccounts.PlatformRevenue, null, currency, amount - fromCreator),
        ]).WithoutZeroLines();
    }

    /// <summary>
    /// A dispute of <paramref name="amount"/>: the processor moves the funds out of our balance (frozen), and the creator's
    /// proportional part moves from their pending balance to frozen, so it cannot be paid out while the dispute is open.
    /// </summary>
    public static JournalEntry Dispute(string sourceId, string processor, string product, string? channelId, string currency, long gross, long creatorShare,
        long amount)
    {
        var fromCreator = product == Product.Premium || gross == 0 ? 0 : Allocation.LargestRemainder(amount, [creatorShare, gross - creatorShare])[0];
        return new JournalEntry(sourceId, EntryKind.Dispute, $"{product} dispute",
        [
            new(LedgerAccounts.Clearing(processor), null, currency, -amount),
            new(LedgerAccounts.Disputed(processor), null, currency, amount),
            new(LedgerAccounts.CreatorPending, channelId, currency, fromCreator),
            new(LedgerAccounts.CreatorFrozen, channelId, currency, -fromCreator),
        ]).WithoutZeroLines();
    }

    /// <summary>
    /// Closes a month's Premium pool of <paramref name="pool"/>: split among channels by premium watch seconds (largest
    /// remainder), into their pending balances; with no watch time at all, to the platform.
    /// </summary>
    public static JournalEntry PoolAllocation(string month, string currency, long pool, IReadOnlyList<(string ChannelId, long Seconds)> watch, DateTimeOffset at,
        SharingRules rules)
    {
        var lines = new List<LedgerLine> { new(LedgerAccounts.PremiumPool(month), null, currency, pool) };
        var watched = watch.Where(w => w.Seconds > 0).OrderBy(w => w.ChannelId, StringComparer.Ordinal).ToList();
        if (watched.Count == 0)
        {
            lines.Add(new(LedgerAccounts.PlatformRevenue, null, currency, -pool));
        }
        else
        {
            var parts = Allocation.LargestRemainder(pool, watched.Select(w => w.Seconds).ToList());
            for (var i = 0; i < parts.Length; i++)
            {
                lines.Add(new(LedgerAccounts.CreatorPending, watched[i].ChannelId, currency, -parts[i], at + rules.HoldPeriod));
            }
        }

        return new JournalEntry($"premium-pool:{month}:{currency}", EntryKind.PoolAllocation, $"Premium pool {month}", lines).WithoutZeroLines();
    }

    /// <summary>The month (UTC, <c>yyyy-MM</c>) an instant falls in.</summary>
    public static string Month(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy'-'MM", System.Globalization.CultureInfo.InvariantCulture);

    public static bool TryParseMonth(string? text, out DateTimeOffset start)
    {
        start = default;
        if (text is not { Length: 7 } || text[4] != '-'
            || !DateTime.TryParseExact(text, "yyyy'-'MM", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var d))
        {
            return false;
        }

        start = new DateTimeOffset(d.Year, d.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return true;
    }
}
