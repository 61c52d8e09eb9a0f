using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Tests.Limits;

public sealed class StoredObjectPacingTests
{
    [Fact]
    public async Task A_stored_object_is_written_whole_at_the_capped_rate()
    {
        var bytes = new byte[300_000];
        new Random(3).NextBytes(bytes);
        // Three chunks, as a segment made of parts is stored.
        var obj = new StoredObject([bytes.AsMemory(0, 100_000), bytes.AsMemory(100_000, 150_000), bytes.AsMemory(250_000)], "\"p\"", "video/mp4");
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;

        var watch = Stopwatch.StartNew();
        await StoredObjectWriter.WriteAsync(context, obj, "public", DeliveryMetrics.Kind.Segment, new BandwidthPacer(1_000_000, TimeProvider.System), compress: false);
        await context.Response.BodyWriter.FlushAsync();

        Assert.Equal(bytes, body.ToArray());
        // 300 kB at 1 MB/s: ~0.3 s less the 50 ms slack.
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.22, 5);
    }
}
