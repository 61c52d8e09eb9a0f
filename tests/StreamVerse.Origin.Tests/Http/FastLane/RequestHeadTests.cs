using System.Buffers;
using System.Text;
using CsCheck;
using StreamVerse.Origin.Http.FastLane;
using StreamVerse.Origin.Tests.Rtmp;

namespace StreamVerse.Origin.Tests.Http.FastLane;

public sealed class RequestHeadTests
{
    private const string Typical =
        "GET /live/cam/video.m3u8?_HLS_msn=12&_HLS_part=3 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Lavf/59\r\n" +
        "Accept: */*\r\nRange: bytes=0-99\r\nIf-None-Match: \"abc\"\r\nAccept-Encoding: br, gzip\r\nConnection: keep-alive\r\n\r\n";

    private sealed record Parsed(HeadStatus Status, int Consumed, bool IsHead, string Path, string Query, string Range, string IfNoneMatch, string IfRange, string AcceptEncoding, bool Close,
        string Host = "", bool FromEdge = false, bool CrossOrigin = false);

    private static Parsed Parse(ReadOnlySequence<byte> buffer)
    {
        var scratch = new byte[Http1RequestHead.MaxHeadBytes];
        var status = Http1RequestHead.TryRead(buffer, scratch, out var head, out var consumed);
        return new Parsed(status, status == HeadStatus.Parsed ? consumed : 0, head.IsHead, S(head.Path), S(head.Query), S(head.Range), S(head.IfNoneMatch),
            S(head.IfRange), S(head.AcceptEncoding), head.Close, S(head.Host), head.FromEdge, head.CrossOrigin);
    }

    private static Parsed Parse(string text) => Parse(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)));

    private static string S(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);

    [Fact]
    public void Reads_what_the_lane_answers_from()
    {
        var parsed = Parse(Typical + "GET /next HTTP/1.1\r\n");
        Assert.Equal(HeadStatus.Parsed, parsed.Status);
        Assert.Equal(Typical.Length, parsed.Consumed);
        Assert.False(parsed.IsHead);
        Assert.Equal("/live/cam/video.m3u8", parsed.Path);
        Assert.Equal("_HLS_msn=12&_HLS_part=3", parsed.Query);
        Assert.Equal("bytes=0-99", parsed.Range);
        Assert.Equal("\"abc\"", parsed.IfNoneMatch);
        Assert.Equal("br, gzip", parsed.AcceptEncoding);
        Assert.Equal("127.0.0.1:8080", parsed.Host);
        Assert.False(parsed.Close);
        Assert.False(parsed.FromEdge);
        Assert.False(parsed.CrossOrigin);
        Assert.True(Parse("GET /a HTTP/1.1\r\nHost: x\r\nVia: 1.0 proxy\r\nVia: 1.1 streamverse-edge\r\n\r\n").FromEdge);
        var cors = Parse("GET /a HTTP/1.1\r\nHost: x\r\nOrigin: https://player.example\r\n\r\n");
        Assert.Equal(HeadStatus.Parsed, cors.Status);
        Assert.True(cors.CrossOrigin);
    }

    /// <summary>
    /// CTA-5004: players send CMCD on every request, URL-encoded in a query argument or in four headers. Neither may push
    /// the request off the lane (before, every CMCD query went to Kestrel for its '%'); both are kept for the observer.
    /// </summary>
    [Fact]
    public void Cmcd_queries_and_headers_stay_in_the_lane_and_are_kept()
    {
        var query = Parse("GET /live/cam/video.m3u8?_HLS_msn=3&CMCD=bl%3D100%2Csid%3D%22a%22 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(HeadStatus.Parsed, query.Status);
        Assert.Equal("_HLS_msn=3&CMCD=bl%3D100%2Csid%3D%22a%22", query.Query);

        var text = "GET /live/cam/s/video_1.m4s HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (X11)\r\ncmcd-request: bl=100,mtp=900\r\n"
            + "CMCD-Object: br=800,ot=v\r\nCMCD-Status: bs\r\nCMCD-Session: sid=\"a\",st=l\r\nCMCD-Request: bl=5\r\n\r\n";
        var scratch = new byte[Http1RequestHead.MaxHeadBytes];
        Assert.Equal(HeadStatus.Parsed, Http1RequestHead.TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), scratch, out var head, out _));
        Assert.Equal("Mozilla/5.0 (X11)", S(head.UserAgent));
        Assert.Equal("bl=100,mtp=900", S(head.CmcdRequest)); // the first of a repeated one
        Assert.Equal("br=800,ot=v", S(head.CmcdObject));
        Assert.Equal("bs", S(head.CmcdStatus));
        Assert.Equal("sid=\"a\",st=l", S(head.CmcdSession));
    }

    [Fact]
    public void Head_requests_case_insensitive_names_and_connection_close()
    {
        var parsed = Parse("HEAD /a/b HTTP/1.1\r\nhOsT: x\r\nCONNECTION: Close\r\nif-range:   \"e\"  \r\n\r\n");
        Assert.Equal(HeadStatus.Parsed, parsed.Status);
        Assert.True(parsed.IsHead);
        Assert.True(parsed.Close);
        Assert.Equal("\"e\"", parsed.IfRange);
        Assert.Equal(string.Empty, parsed.Query);
    }

    [Theory]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x")]
    [InlineData("GET /a HTT")]
    [InlineData("")]
    public void A_head_without_its_empty_line_is_incomplete(string text) =>
        Assert.Equal(HeadStatus.Incomplete, Parse(text).Status);

    [Theory]
    [InlineData("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("OPTIONS /a HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("get /a HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a HTTP/1.0\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a HTTP/2.0\r\nHost: x\r\n\r\n")]
    [InlineData("GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET * HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a%2Fb?CMCD=br%3D1 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a?_HLS_%6Dsn=1&CMCD=br%3D1 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a?%43MCD=br%3D1 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /live/../etc HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /live/./a HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET //live/a HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\nOrigin: https://b.example\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\nAccess-Control-Request-Method: GET\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\"\r\nif-none-match: \"b\"\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\nX: y\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\rX: y\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nX: a\u0001b\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nX: caf\u00e9\r\n\r\n")]
    public void Anything_else_is_handed_to_kestrel(string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        Assert.Equal(HeadStatus.HandOver, Parse(new ReadOnlySequence<byte>(bytes)).Status);
    }

    /// <summary>
    /// Kestrel answers these with 400 Invalid Host header (RFC 9112 §3.2, RFC 3986 §3.2.2), so the lane must not answer
    /// them itself. Found by the http-head fuzz target (tests/StreamVerse.Fuzz), which checks every Host the lane
    /// takes against Kestrel's own check.
    /// </summary>
    [Theory]
    [InlineData("a b")]
    [InlineData("\"80")]
    [InlineData(">080")]
    [InlineData("zip, br;q=0")]
    [InlineData("a/b")]
    [InlineData("user@a")]
    [InlineData("a%41")]
    [InlineData("a:")]
    [InlineData("a:8x")]
    [InlineData("a:80:80")]
    [InlineData(":80")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("[]")]
    [InlineData("[::g]")]
    public void A_host_kestrel_refuses_is_handed_over(string host) =>
        Assert.Equal(HeadStatus.HandOver, Parse($"GET /a HTTP/1.1\r\nHost: {host}\r\n\r\n").Status);

    [Theory]
    [InlineData("x")]
    [InlineData("")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("origin-1.example:443")]
    [InlineData("a_b~c")]
    [InlineData("[::1]")]
    [InlineData("[::ffff:10.0.0.1]:8080")]
    public void A_host_kestrel_takes_stays_in_the_lane(string host)
    {
        var parsed = Parse($"GET /a HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.Equal(HeadStatus.Parsed, parsed.Status);
        Assert.Equal(host, parsed.Host);
    }

    [Fact]
    public void Heads_over_the_limit_and_long_values_go_to_kestrel()
    {
        var longHeader = "GET /a HTTP/1.1\r\nHost: x\r\nX-Pad: " + new string('a', Http1RequestHead.MaxHeadBytes) + "\r\n\r\n";
        Assert.Equal(HeadStatus.HandOver, Parse(longHeader).Status);
        Assert.Equal(HeadStatus.HandOver, Parse("GET /a HTTP/1.1\r\nHost: x\r\nX-Pad: " + new string('a', Http1RequestHead.MaxHeadBytes)).Status);
        var longRange = "GET /a HTTP/1.1\r\nHost: x\r\nRange: bytes=" + new string('1', Http1RequestHead.MaxValueBytes) + "\r\n\r\n";
        Assert.Equal(HeadStatus.HandOver, Parse(longRange).Status);
        var manyHeaders = new StringBuilder("GET /a HTTP/1.1\r\nHost: x\r\n");
        for (var i = 0; i < 70; i++)
        {
            manyHeaders.Append("X-").Append(i).Append(": v\r\n");
        }

        Assert.Equal(HeadStatus.HandOver, Parse(manyHeaders.Append("\r\n").ToString()).Status);
    }

    [Fact]
    public void Every_split_point_gives_the_same_result()
    {
        var bytes = Encoding.ASCII.GetBytes(Typical + "GET /b HTTP/1.1\r\nHost: y\r\n\r\n");
        var whole = Parse(new ReadOnlySequence<byte>(bytes));
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(whole, Parse(SequenceHelpers.Segments(bytes[..split], bytes[split..])));
            var prefix = Parse(new ReadOnlySequence<byte>(bytes[..split]));
            // A prefix is incomplete until it holds the whole first head, then it parses the same.
            Assert.Equal(split < Typical.Length ? HeadStatus.Incomplete : HeadStatus.Parsed, prefix.Status);
        }

        for (var a = 1; a < bytes.Length - 1; a += 7)
        {
            for (var b = a + 1; b < bytes.Length; b += 5)
            {
                Assert.Equal(whole, Parse(SequenceHelpers.Segments(bytes[..a], bytes[a..b], bytes[b..])));
            }
        }
    }

    /// <summary>Whatever the parser accepts is still the narrow shape the lane answers.</summary>
    private static void AssertNarrow(Parsed parsed, int available)
    {
        if (parsed.Status == HeadStatus.Parsed)
        {
            Assert.StartsWith("/", parsed.Path);
            Assert.DoesNotContain("%", parsed.Path);
            Assert.True(StreamVerse.Origin.Audience.Cmcd.PercentOnlyInCmcd(Encoding.ASCII.GetBytes(parsed.Query)), parsed.Query);
            Assert.DoesNotContain("/.", parsed.Path);
            Assert.DoesNotContain("//", parsed.Path);
            Assert.NotEmpty(parsed.Host);
            Assert.InRange(parsed.Consumed, 1, available);
        }
    }

    [Fact]
    public void Random_and_mutated_bytes_never_throw_and_parse_only_the_narrow_shape()
    {
        var valid = Encoding.ASCII.GetBytes(Typical);
        Gen.Byte.Array[0, 600].Sample(bytes => AssertNarrow(Parse(new ReadOnlySequence<byte>(bytes)), bytes.Length), iter: 3000);
        Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 6], Gen.Byte.Array[6], Gen.Int[1, valid.Length - 1]).Sample((positions, values, split) =>
        {
            var copy = (byte[])valid.Clone();
            for (var i = 0; i < positions.Length; i++)
            {
                copy[positions[i]] = values[i];
            }

            var whole = Parse(new ReadOnlySequence<byte>(copy));
            Assert.Equal(whole, Parse(SequenceHelpers.Segments(copy[..split], copy[split..])));
            AssertNarrow(whole, copy.Length);
        }, iter: 5000);
    }

    [Theory]
    [InlineData("", true, null, null, false)]
    [InlineData("_HLS_msn=7", true, 7L, null, false)]
    [InlineData("_HLS_msn=7&_HLS_part=2", true, 7L, 2, false)]
    [InlineData("_HLS_msn=7&_HLS_part=2&_HLS_skip=YES", true, 7L, 2, true)]
    [InlineData("_HLS_skip=v2", true, null, null, true)]
    [InlineData("_HLS_skip=no", true, null, null, false)]
    [InlineData("foo=bar&_HLS_msn=1", true, 1L, null, false)]
    [InlineData("_HLS_part=2", false, null, null, false)]
    [InlineData("_HLS_msn=", false, null, null, false)]
    [InlineData("_HLS_msn=-1", false, null, null, false)]
    [InlineData("_HLS_msn=1x", false, null, null, false)]
    [InlineData("_HLS_msn=+1", false, null, null, false)]
    [InlineData("_HLS_msn=1&_HLS_msn=2", false, null, null, false)]
    [InlineData("_HLS_msn=1&_HLS_part=99999999999", false, null, null, false)]
    [InlineData("_HLS_msn=9999999999999999999", false, null, null, false)]
    public void Blocking_reload_parameters_parse_as_the_routed_handler_reads_them(string query, bool ok, long? msn, int? part, bool skip)
    {
        Assert.Equal(ok, LiveFastLaneRouter.TryParseReload(Encoding.ASCII.GetBytes(query), out var m, out var p, out var s));
        if (ok)
        {
            Assert.Equal(msn, m);
            Assert.Equal(part, p);
            Assert.Equal(skip, s);
        }
    }
}
