using CsCheck;
using StreamVerse.ControlPlane.Ledger;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// The ledger's arithmetic for any input (CsCheck): allocations never leak a unit, every entry balances, and for any set of
/// money events creator shares + platform + fees = gross exactly.
/// </summary>
public sealed class LedgerPropertyTests
{
    [Fact]
    public void Largest_remainder_parts_sum_to_the_total_and_each_is_within_one_unit_of_its_exact_share()
    {
        Gen.Select(Gen.Long[-1_000_000_000_000, 1_000_000_000_000], Gen.Long[0, 10_000_000_000].Array[1, 40]).Where((_, w) => w.Any(x => x > 0)).Sample((total, weights) =>
        {
            var parts = Allocation.LargestRemainder(total, weights);
            Assert.Equal(total, parts.Sum());
            var sum = weights.Aggregate((Int128)0, (a, w) => a + w);
            for (var i = 0; i < parts.Length; i++)
            {
                // |part * sum - total * weight| < sum, i.e. the part is the floor or the ceiling of its exact quota.
                var error = (Int128)parts[i] * sum - (Int128)total * weights[i];
                Assert.True(error > -sum && error < sum, $"part {i}: {parts[i]}");
                Assert.True(weights[i] > 0 || parts[i] == 0);
            }
        });
    }

    private sealed record Event(string Product, long Gross, long Fee, long Refund, long Dispute);

    private static readonly Gen<Event> Events =
        Gen.Select(Gen.OneOfConst(Product.Premium, Product.Membership, Product.Tip), Gen.Long[0, 10_000_000], Gen.Long[0, 20_000_000], Gen.Long[0, 10_000_000], Gen.Long[0, 10_000_000])
            .Select((product, gross, fee, refund, dispute) => new Event(product, gross, Math.Min(fee, gross), Math.Min(refund, gross), Math.Min(dispute, gross - Math.Min(refund, gross))));

    [Fact]
    public void For_any_set_of_events_every_entry_balances_and_shares_plus_platform_plus_fees_is_the_gross()
    {
        Gen.Select(Events.Array[0, 30], Gen.Int[0, 10_000], Gen.Int[0, 10_000]).Sample((events, creatorBps, poolBps) =>
        {
            var rules = new SharingRules(creatorBps, poolBps, TimeSpan.FromDays(14));
            var at = new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero);
            var all = new List<JournalEntry>();
            long gross = 0, fees = 0, shares = 0, platform = 0;
            foreach (var (e, i) in events.Select((e, i) => (e, i)))
            {
                var (sale, share) = RevenueSharing.Sale($"s{i}", "stripe", e.Product, "ch" + (i % 3), "usd", e.Gross, e.Fee, at, rules);
                Assert.True(sale.IsBalanced || e.Gross == 0, $"sale {i}");
                var revenue = -sale.Lines.Where(l => l.Account == LedgerAccounts.PlatformRevenue).Sum(l => l.Amount);
                Assert.Equal(e.Gross, share + (revenue - e.Fee) + e.Fee);
                Assert.InRange(share, 0, e.Gross - e.Fee);
                gross += e.Gross;
                fees += e.Fee;
                shares += share;
                platform += revenue - e.Fee;
                all.Add(sale);
                var creatorShare = e.Product == Product.Premium ? 0 : share;
                if (e.Refund > 0)
                {
                    all.Add(RevenueSharing.Refund($"r{i}", "stripe", e.Product, "ch" + (i % 3), "usd", e.Gross, creatorShare, e.Refund, at));
                }

                if (e.Dispute > 0)
                {
                    all.Add(RevenueSharing.Dispute($"d{i}", "stripe", e.Product, "ch" + (i % 3), "usd", e.Gross, creatorShare, e.Dispute));
                }
            }

            Assert.Equal(gross, shares + platform + fees);
            Assert.All(all.Where(x => x.Lines.Count > 0), x => Assert.True(x.IsBalanced, x.SourceId));
            Assert.Equal(0, all.SelectMany(x => x.Lines).Sum(l => l.Amount));

            // The creators' refunds and disputes never take back more than they were given.
            foreach (var ch in new[] { "ch0", "ch1", "ch2" })
            {
                var credited = -all.Where(x => x.Kind == EntryKind.Sale).SelectMany(x => x.Lines).Where(l => l.ChannelId == ch).Sum(l => l.Amount);
                var taken = all.Where(x => x.Kind is EntryKind.Refund or EntryKind.Dispute).SelectMany(x => x.Lines)
                    .Where(l => l.ChannelId == ch && l.Account == LedgerAccounts.CreatorPending).Sum(l => l.Amount);
                Assert.InRange(taken, 0, credited);
            }
        });
    }

    [Fact]
    public void A_months_pool_is_allocated_exactly_by_watch_time()
    {
        Gen.Select(Gen.Long[0, 100_000_000], Gen.Long[0, 1_000_000_000].Array[0, 50]).Sample((pool, seconds) =>
        {
            var watch = seconds.Select((s, i) => ("ch" + i, s)).ToList();
            var entry = RevenueSharing.PoolAllocation("2026-11", "usd", pool, watch, DateTimeOffset.UnixEpoch, new SharingRules(8000, 5500, TimeSpan.Zero));
            Assert.True(entry.IsBalanced || pool == 0);
            var toCreators = -entry.Lines.Where(l => l.Account == LedgerAccounts.CreatorPending).Sum(l => l.Amount);
            var toPlatform = -entry.Lines.Where(l => l.Account == LedgerAccounts.PlatformRevenue).Sum(l => l.Amount);
            Assert.Equal(pool, toCreators + toPlatform);
            Assert.Equal(seconds.Any(s => s > 0) ? 0 : pool, toPlatform);
            Assert.DoesNotContain(entry.Lines, l => l.ChannelId is { } ch && seconds[int.Parse(ch[2..], System.Globalization.CultureInfo.InvariantCulture)] == 0);
        });
    }
}
