using System.Text;
using StreamVerse.Origin.Audience;

namespace StreamVerse.Origin.Tests.Audience;

/// <summary>The CMCD reader on CTA-5004's own examples (§4) and on what players and attackers send instead.</summary>
public sealed class CmcdTests
{
    private const string SessionId = "6e2fb550-c457-11e9-bb97-0800200c9a66";
    private const string ContentId = "faec5fc2-ac30-11ea-bb37-0242ac130002";

    /// <summary>CTA-5004 §4: all keys as one URL-encoded query argument (the spec's example, byte for byte).</summary>
    private const string SpecQuery =
        "CMCD=bl%3D21300%2Cbr%3D3200%2Cbs%2Ccid%3D%22faec5fc2-ac30-11ea-bb37-0242ac130002%22%2Cd%3D4004%2Cdl%3D18500%2Cmtp%3D48100%2Cnor%3D%22..%252F300kbps%252Ftrack.m4v%22%2Cnrr%3D%2212323-48763%22%2Cot%3Dv%2Cpr%3D1.08%2Crtp%3D12000%2Csf%3Dd%2Csid%3D%226e2fb550-c457-11e9-bb97-0800200c9a66%22%2Cst%3Dv%2Csu%2Ctb%3D6000";

    private static CmcdValues Query(string query)
    {
        var values = new CmcdValues();
        Cmcd.ReadQuery(Encoding.Latin1.GetBytes(query), ref values);
        return values;
    }

    private static CmcdValues Headers(params string[] headers)
    {
        var values = new CmcdValues();
        foreach (var header in headers)
        {
            Cmcd.ReadHeader(Encoding.Latin1.GetBytes(header), ref values);
        }

        return values;
    }

    private static ulong Hash(string s) => Cmcd.Fnv1a(Encoding.ASCII.GetBytes(s));

    [Fact]
    public void The_specs_query_example_reads_every_key()
    {
        var v = Query(SpecQuery);
        Assert.True(v.Present);
        Assert.Equal(21300, v.BufferLength);
        Assert.Equal(3200, v.Bitrate);
        Assert.True(v.BufferStarvation);
        Assert.Equal(Hash(ContentId), v.ContentId);
        Assert.Equal(4004, v.Duration);
        Assert.Equal(18500, v.Deadline);
        Assert.Equal(48100, v.MeasuredThroughput);
        Assert.Equal(CmcdObjectType.Video, v.ObjectType);
        Assert.Equal(1080, v.PlaybackRateMilli);
        Assert.Equal(12000, v.RequestedThroughput);
        Assert.Equal((byte)'d', v.StreamingFormat);
        Assert.Equal(Hash(SessionId), v.SessionId);
        Assert.Equal((byte)'v', v.StreamType);
        Assert.True(v.Startup);
        Assert.Equal(6000, v.TopBitrate);
        Assert.Equal(-1, v.Version);
    }

    /// <summary>CTA-5004 §4: the same data in the four headers reads the same.</summary>
    [Fact]
    public void The_specs_header_example_reads_as_the_query()
    {
        var v = Headers(
            "br=3200,d=4004,ot=v,tb=6000",
            "bl=21300,dl=18500,mtp=48100,nor=\"..%2F300kbps%2Ftrack.m4v\",nrr=\"12323-48763\",su",
            "cid=\"faec5fc2-ac30-11ea-bb37-0242ac130002\",pr=1.08,sf=d,sid=\"6e2fb550-c457-11e9-bb97-0800200c9a66\",st=v",
            "bs,rtp=12000");
        Assert.Equal(Query(SpecQuery), v);
    }

    [Fact]
    public void A_query_without_cmcd_reads_nothing_and_other_parameters_are_left_alone()
    {
        var values = new CmcdValues();
        Assert.False(Cmcd.ReadQuery("_HLS_msn=5&_HLS_part=1"u8, ref values));
        Assert.False(values.Present);
        var v = Query("_HLS_msn=5&CMCD=br%3D800%2Csid%3D%22x%22&_HLS_part=1");
        Assert.Equal(800, v.Bitrate);
        Assert.Equal(Hash("x"), v.SessionId);
        Assert.Equal(800, Query("?CMCD=br%3D800").Bitrate); // with the '?' too
    }

    [Theory]
    [InlineData("br=-5")]             // negative: not allowed
    [InlineData("br=\"3200\"")]       // a string where an integer belongs
    [InlineData("br=3200x")]          // trailing garbage
    [InlineData("br=3.5")]            // a decimal where an integer belongs
    [InlineData("br=1234567890123456")] // 16 digits: beyond RFC 8941's integers
    [InlineData("br")]                // no value
    [InlineData("BR=3200")]           // keys are lower case
    [InlineData("br=3200 junk")]      // more than whitespace before the next comma
    public void A_malformed_integer_is_skipped(string header)
    {
        var v = Headers(header);
        Assert.Equal(-1, v.Bitrate);
        Assert.False(v.Present);
    }

    [Fact]
    public void One_bad_pair_spoils_only_itself()
    {
        var v = Headers("br=oops,bl=1200,@@@,,sid=\"s\",ot=zz,mtp=800");
        Assert.Equal(-1, v.Bitrate);
        Assert.Equal(1200, v.BufferLength);
        Assert.Equal(Hash("s"), v.SessionId);
        Assert.Equal(CmcdObjectType.None, v.ObjectType);
        Assert.Equal(800, v.MeasuredThroughput);
    }

    [Fact]
    public void Quoted_strings_keep_commas_and_escaped_quotes_inside()
    {
        var v = Headers("sid=\"a,b\\\"c\",br=100");
        Assert.Equal(Hash("a,b\\\"c"), v.SessionId);
        Assert.Equal(100, v.Bitrate);

        var unterminated = Headers("br=100,sid=\"never closed,bl=5");
        Assert.Equal(100, unterminated.Bitrate);
        Assert.Equal(0UL, unterminated.SessionId);
        Assert.Equal(-1, unterminated.BufferLength); // swallowed by the open string
    }

    [Fact]
    public void Booleans_are_bare_keys_or_the_explicit_forms()
    {
        Assert.True(Headers("bs").BufferStarvation);
        Assert.True(Headers("bs=?1").BufferStarvation);
        var off = Headers("bs=?0,su=?0");
        Assert.False(off.BufferStarvation);
        Assert.False(off.Startup);
        Assert.True(off.Present);
        Assert.False(Headers("bs=true").BufferStarvation);
    }

    [Fact]
    public void Whitespace_custom_keys_and_inner_lists()
    {
        var v = Headers("  br=3200 , com.example-key=\"x\",  bl=(21300 9000), tb=2147483648000");
        Assert.Equal(3200, v.Bitrate);
        Assert.Equal(21300, v.BufferLength);
        Assert.Equal(int.MaxValue, v.TopBitrate); // larger than an int: the largest int
    }

    [Fact]
    public void Every_object_type_token()
    {
        foreach (var (token, type) in new[]
        {
            ("m", CmcdObjectType.Manifest), ("a", CmcdObjectType.Audio), ("v", CmcdObjectType.Video), ("av", CmcdObjectType.Muxed),
            ("i", CmcdObjectType.Init), ("c", CmcdObjectType.Caption), ("tt", CmcdObjectType.TimedText), ("k", CmcdObjectType.Key),
            ("o", CmcdObjectType.Other), ("x", CmcdObjectType.None),
        })
        {
            Assert.Equal(type, Headers("ot=" + token).ObjectType);
        }
    }

    [Fact]
    public void Percent_decoding_is_bounded_and_leaves_bad_escapes()
    {
        Span<byte> destination = stackalloc byte[4];
        Assert.Equal(4, Cmcd.PercentDecode("%41%zz%4"u8, destination));
        Assert.Equal("A%zz", Encoding.ASCII.GetString(destination));
        // A value far beyond the bound reads its first MaxBytes only, without failing.
        var huge = "CMCD=br%3D100%2C" + string.Concat(Enumerable.Repeat("x%3D1%2C", 2000));
        Assert.Equal(100, Query(huge).Bitrate);
    }

    [Fact]
    public void Only_cmcd_values_may_carry_percent_escapes_on_the_fast_lane()
    {
        Assert.True(Cmcd.PercentOnlyInCmcd("_HLS_msn=5&CMCD=br%3D1"u8));
        Assert.True(Cmcd.PercentOnlyInCmcd("_HLS_msn=5"u8));
        Assert.False(Cmcd.PercentOnlyInCmcd("_HLS_%6Dsn=5&CMCD=br%3D1"u8));
        Assert.False(Cmcd.PercentOnlyInCmcd("%43MCD=br%3D1"u8));
        Assert.True(Cmcd.OnlyCmcd(""u8));
        Assert.True(Cmcd.OnlyCmcd("CMCD=x"u8));
        Assert.False(Cmcd.OnlyCmcd("CMCD=x&a=1"u8));
    }

    [Fact]
    public void Reading_allocates_nothing()
    {
        var query = Encoding.ASCII.GetBytes(SpecQuery);
        var header = "cid=\"faec5fc2\",pr=1.08,sf=d,sid=\"6e2fb550\",st=v,bl=(100 200)"u8.ToArray();
        // Warmed up first, and the least of three runs counts: tiering a method up (JIT) may allocate on the calling thread
        // once, while anything the reader allocates per call shows in every run.
        var best = long.MaxValue;
        for (var run = 0; run < 4 && best > 0; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                var values = new CmcdValues();
                Cmcd.ReadQuery(query, ref values);
                Cmcd.ReadHeader(header, ref values);
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            best = run == 0 ? best : Math.Min(best, allocated);
        }

        Assert.Equal(0, best);
    }
}
