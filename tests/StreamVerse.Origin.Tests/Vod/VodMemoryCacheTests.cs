using StreamVerse.Origin.Vod;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Tests.Vod;

public sealed class VodMemoryCacheTests
{
    private static StoredObject Obj(int size) => new(new byte[size], "\"e\"", "video/mp4");

    [Fact]
    public void A_segment_is_admitted_on_its_second_request_only()
    {
        var cache = new VodMemoryCache(1 << 20);
        Assert.False(cache.ShouldAdmit("v/1/a_1.m4s", 1000));
        Assert.True(cache.ShouldAdmit("v/1/a_1.m4s", 1000));
        Assert.False(cache.ShouldAdmit("v/1/big.m4s", cache.MaxObjectBytes + 1));
        Assert.False(cache.ShouldAdmit("v/1/big.m4s", cache.MaxObjectBytes + 1));
        Assert.False(new VodMemoryCache(0).ShouldAdmit("v/1/a_1.m4s", 1));
    }

    [Fact]
    public void Hits_are_found_by_a_span_of_the_request_path()
    {
        var cache = new VodMemoryCache(1 << 20);
        var obj = Obj(100);
        cache.Add("vid/v1/360p_1.m4s", obj);
        var path = "/vod/t/TOKEN/vid/v1/360p_1.m4s";
        Assert.Same(obj, cache.TryGet(path.AsSpan(path.Length - "vid/v1/360p_1.m4s".Length)));
        Assert.Null(cache.TryGet("vid/v2/360p_1.m4s"));
    }

    [Fact]
    public void Eviction_gives_a_referenced_segment_a_second_chance()
    {
        // 10 slots of 100 KiB; "hot" is read between insertions, the others never are.
        var cache = new VodMemoryCache(1000 * 1024);
        cache.Add("hot", Obj(100 * 1024));
        cache.Add("cold", Obj(100 * 1024));
        for (var i = 0; i < 40; i++)
        {
            Assert.NotNull(cache.TryGet("hot"));
            cache.Add($"s{i}", Obj(100 * 1024));
            Assert.InRange(cache.Bytes, 1, 1000 * 1024);
        }

        Assert.NotNull(cache.TryGet("hot"));
        Assert.Null(cache.TryGet("cold"));
        Assert.Null(cache.TryGet("s0"));
        Assert.NotNull(cache.TryGet("s39"));
    }
}
