using StreamVerse.Origin.Edge;

namespace StreamVerse.Origin.Tests.Edge;

public sealed class CachePolicyTests
{
    [Theory]
    [InlineData("public, max-age=31536000, immutable", true, 31536000, 365 * 86400)]
    [InlineData("public, max-age=1", true, 1, 0)]
    [InlineData("public, max-age=10, stale-if-error=86400", true, 10, 86400)]
    [InlineData("max-age=60, s-maxage=5", true, 5, 0)]
    [InlineData("no-cache", false, 0, 0)]
    [InlineData("no-store", false, 0, 0)]
    [InlineData("private, max-age=60", false, 0, 0)]
    [InlineData("public, max-age=0", false, 0, 0)]
    [InlineData("public", false, 0, 0)]
    [InlineData("", false, 0, 0)]
    [InlineData(null, false, 0, 0)]
    [InlineData("max-age=abc", false, 0, 0)]
    [InlineData("MAX-AGE=\"3\"", true, 3, 0)]
    public void Ttl_follows_cache_control(string? header, bool storable, int freshSeconds, int staleSeconds)
    {
        var policy = CachePolicy.From(header, TimeSpan.Zero);
        Assert.Equal(storable, policy.Storable);
        Assert.Equal(TimeSpan.FromSeconds(freshSeconds), policy.FreshFor);
        Assert.Equal(TimeSpan.FromSeconds(staleSeconds), policy.StaleIfError);
    }

    /// <summary>RFC 9111 §1.2.2: a delta-seconds too large for the cache is taken as 2^31; TimeSpan itself ends near 2^63 ticks.</summary>
    [Theory]
    [InlineData("max-age=99999999999999", 2147483648L, 0L)]
    [InlineData("s-maxage=99999999999999", 2147483648L, 0L)]
    [InlineData("max-age=2147483648", 2147483648L, 0L)]
    [InlineData("max-age=2147483649", 2147483648L, 0L)]
    [InlineData("max-age=999999999999999999999999999999", 2147483648L, 0L)]
    [InlineData("public, max-age=10, stale-if-error=99999999999999", 10L, 2147483648L)]
    [InlineData("max-age=99999999999999, stale-if-error=99999999999999", 2147483648L, 2147483648L)]
    public void Huge_delta_seconds_are_capped_at_two_to_the_31(string header, long freshSeconds, long staleSeconds)
    {
        var policy = CachePolicy.From(header, TimeSpan.Zero);
        Assert.True(policy.Storable);
        Assert.Equal(TimeSpan.FromSeconds(freshSeconds), policy.FreshFor);
        Assert.Equal(TimeSpan.FromSeconds(staleSeconds), policy.StaleIfError);
    }

    [Fact]
    public void Age_spent_upstream_is_subtracted()
    {
        Assert.Equal(TimeSpan.FromSeconds(7), CachePolicy.From("max-age=10", TimeSpan.FromSeconds(3)).FreshFor);
        Assert.False(CachePolicy.From("max-age=10", TimeSpan.FromSeconds(10)).Storable);
    }
}
