using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using StreamVerse.ControlPlane.Analytics;
using StreamVerse.Origin.Audience;

namespace StreamVerse.Benchmarks.Origin;

/// <summary>
/// What the origin adds to a segment request for audience analytics (issue 19): reading CMCD as hls.js sends it (one
/// URL-encoded query argument, or the four headers), the viewer id (SipHash of address and user agent, or of the CMCD
/// session), and counting the live viewer. Required: 0 B/op for each.
/// </summary>
[MemoryDiagnoser]
public class CmcdBenchmarks
{
    /// <summary>What hls.js 1.7 sends with a part request in query mode (the query of the request line).</summary>
    private static readonly byte[] HlsQuery = Encoding.ASCII.GetBytes(
        "CMCD=" + Uri.EscapeDataString("bl=4200,br=1289,cid=\"cam\",d=1001,dl=4000,mtp=48100,nor=\"video_13.m4s\",ot=v,sf=h,sid=\"0b9f2a4c-7c1e-4b36-9d0a-0c5f1e2d3a4b\",st=l,su,tb=1289,v=1"));

    private static readonly byte[] ObjectHeader = "br=1289,d=1001,ot=v,tb=1289"u8.ToArray();
    private static readonly byte[] RequestHeader = "bl=4200,dl=4000,mtp=48100,nor=\"video_13.m4s\",su"u8.ToArray();
    private static readonly byte[] SessionHeader = "cid=\"cam\",sf=h,sid=\"0b9f2a4c-7c1e-4b36-9d0a-0c5f1e2d3a4b\",st=l,v=1"u8.ToArray();
    private static readonly byte[] UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"u8.ToArray();
    private static readonly IPAddress Client = IPAddress.Parse("198.51.100.23");

    private readonly LiveViewers _viewers = new(TimeProvider.System);
    private readonly long _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private ulong _next;

    [Benchmark(Baseline = true)]
    public int QueryArgument()
    {
        var values = new CmcdValues();
        Cmcd.ReadQuery(HlsQuery, ref values);
        return values.BufferLength;
    }

    [Benchmark]
    public int FourHeaders()
    {
        var values = new CmcdValues();
        Cmcd.ReadHeader(ObjectHeader, ref values);
        Cmcd.ReadHeader(RequestHeader, ref values);
        Cmcd.ReadHeader(SessionHeader, ref values);
        Cmcd.ReadHeader("bs"u8, ref values);
        return values.Bitrate;
    }

    [Benchmark]
    public ulong ViewerFromAddressAndUserAgent() => ViewerHash.OfClient(Client, UserAgent, _now);

    [Benchmark]
    public ulong ViewerFromSession() => ViewerHash.OfSession(0x9e3779b97f4a7c15UL, _now);

    [Benchmark]
    public void CountLiveViewer() => _viewers.Saw("cam", (_next++ % 200) + 1);
}
