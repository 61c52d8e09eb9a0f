namespace StreamVerse.ControlPlane.Ledger;

/// <summary>
/// The chart of accounts. Amounts are signed integer minor units: positive is a debit, negative a credit, so every
/// entry's lines sum to zero per currency. Creator accounts carry the channel in <see cref="LedgerLine.ChannelId"/>.
/// </summary>
internal static class LedgerAccounts
{
    /// <summary>Money held at the processor for us (asset): gross received less the processor's fee, less refunds, disputes and payouts.</summary>
    public static string Clearing(string processor) => "clearing:" + processor;

    /// <summary>The processor's fees (expense).</summary>
    public static string Fees(string processor) => "fees:" + processor;

    /// <summary>Funds the processor holds back for an open dispute (asset, frozen).</summary>
    public static string Disputed(string processor) => "disputed:" + processor;

    /// <summary>The platform's revenue, gross of the processor's fee (its net is this less <see cref="Fees"/>).</summary>
    public const string PlatformRevenue = "platform:revenue";

    /// <summary>The Premium pool of one month (<c>yyyy-MM</c>), allocated to creators when the month closes.</summary>
    public static string PremiumPool(string month) => "platform:premium-pool:" + month;

    public const string PremiumPoolPrefix = "platform:premium-pool:";

    /// <summary>Owed to a creator, inside the hold period (liability).</summary>
    public const string CreatorPending = "creator:pending";

    /// <summary>Owed to a creator and payable (liability).</summary>
    public const string CreatorAvailable = "creator:available";

    /// <summary>A creator's share of a disputed payment, frozen until the dispute ends (liability).</summary>
    public const string CreatorFrozen = "creator:frozen";
}

/// <summary>Entry kinds (stored text): what a statement groups by.</summary>
internal static class EntryKind
{
    public const string Sale = "sale";
    public const string Refund = "refund";
    public const string Dispute = "dispute";
    public const string PoolAllocation = "premium-pool";
    public const string Release = "release";
    public const string Payout = "payout";
}

/// <param name="AvailableAt">For a creator's pending line: when the hold ends and it may move to available.</param>
internal sealed record LedgerLine(string Account, string? ChannelId, string Currency, long Amount, DateTimeOffset? AvailableAt = null);

/// <param name="SourceId">The money event it records (e.g. <c>stripe:evt_...</c>); unique, so a replay posts nothing.</param>
internal sealed record JournalEntry(string SourceId, string Kind, string Memo, IReadOnlyList<LedgerLine> Lines)
{
    /// <summary>Double entry: at least two lines, each currency's lines sum to zero (checked again by the database).</summary>
    public bool IsBalanced => Lines.Count >= 2 && Lines.GroupBy(l => l.Currency, StringComparer.Ordinal).All(g => g.Sum(l => l.Amount) == 0);

    /// <summary>Drops zero lines (a 0 % share, a fee-free payment), which carry nothing.</summary>
    public JournalEntry WithoutZeroLines() => this with { Lines = Lines.Where(l => l.Amount != 0).ToList() };
}

/// <summary>Exact allocation of integer amounts: no rounding leak, ever.</summary>
internal static class Allocation
{
    /// <summary>
    /// Splits <paramref name="total"/> into parts proportional to <paramref name="weights"/> by the largest remainder
    /// (Hamilton) method: each part gets the floor of its exact quota, then the units left over go one each to the
    /// largest fractional remainders (ties: the earlier index). The parts sum to <paramref name="total"/> exactly. A
    /// negative total is split as its absolute value and negated. All weights zero: an empty array is refused.
    /// </summary>
    public static long[] LargestRemainder(long total, IReadOnlyList<long> weights)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(weights.Count, 0);
        Int128 sum = 0;
        foreach (var w in weights)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(w);
            sum += w;
        }

        if (sum == 0)
        {
            throw new ArgumentException("at least one weight must be positive", nameof(weights));
        }

        var sign = total < 0 ? -1 : 1;
        var t = (Int128)total * sign;
        var parts = new long[weights.Count];
        var remainders = new Int128[weights.Count];
        Int128 given = 0;
        for (var i = 0; i < weights.Count; i++)
        {
            var exact = t * weights[i];
            parts[i] = (long)(exact / sum);
            remainders[i] = exact % sum;
            given += parts[i];
        }

        var left = (long)(t - given); // < weights.Count
        if (left > 0)
        {
            var order = Enumerable.Range(0, weights.Count).OrderByDescending(i => remainders[i]).ThenBy(i => i).Take((int)left);
            foreach (var i in order)
            {
                parts[i]++;
            }
        }

        if (sign < 0)
        {
            for (var i = 0; i < parts.Length; i++)
            {
                parts[i] = -parts[i];
            }
        }

        return parts;
    }
}
