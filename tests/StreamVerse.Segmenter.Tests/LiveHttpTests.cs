using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>
/// A real client on the live path: the stream is fed in real time and served from memory by a minimal HTTP
/// front (what the origin does), while ffmpeg plays the live HLS playlists / dynamic MPD until the end.
/// </summary>
public sealed class LiveHttpTests
{
    [Theory]
    [InlineData("index.m3u8")]
    [InlineData("index.mpd")]
    public async Task Ffmpeg_plays_the_live_stream_from_memory(string entry)
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        var stream = registry.TryStartPublishing("now")!;
        await using var app = await StartFrontAsync(stream);
        var url = app.Urls.Single() + "/live/now/" + entry;
        try
        {
            var samples = FlvReader.Read(Tools.Fixture("25"));
            var feeding = Task.Run(async () =>
            {
                var clock = Stopwatch.StartNew();
                foreach (var s in samples)
                {
                    var due = TimeSpan.FromSeconds(s.Dts / 90000.0);
                    if (due > clock.Elapsed)
                    {
                        await Task.Delay(due - clock.Elapsed);
                    }

                    FlvReader.Feed(stream, s);
                }

                stream.OnEnd();
            });

            Assert.NotNull(await stream.GetMasterPlaylistAsync(CancellationToken.None)); // first segment is out
            // ffmpeg 5.1's DASH reader never notices a dynamic MPD turning static (it keeps asking for the
            // next number), so it reads a bounded 5 s there; HLS ends on EXT-X-ENDLIST by itself.
            string[] limit = entry.EndsWith(".mpd", StringComparison.Ordinal) ? ["-t", "5"] : [];
            var play = await Task.Run(() => Tools.Run(TimeSpan.FromSeconds(20), "ffmpeg", ["-v", Environment.GetEnvironmentVariable("SV_FFMPEG_LOG") ?? "error", "-i", url, "-map", "0", .. limit, "-f", "null", "-"]));
            await feeding;
            Assert.True(play.ExitCode == 0, play.StdErr);
            Assert.DoesNotContain("rror", play.StdErr);
        }
        finally
        {
            await TestStreams.WaitRemovedAsync(registry, "now");
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<WebApplication> StartFrontAsync(LiveStream stream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/live/{name}/{file}", async (string file, HttpContext http) =>
        {
            StoredObject? body;
            var status = PlaylistStatus.Ok;
            if (file == "index.m3u8")
            {
                body = await stream.GetMasterPlaylistAsync(http.RequestAborted);
            }
            else if (file == "index.mpd")
            {
                body = await stream.GetMpdAsync(http.RequestAborted);
            }
            else
            {
                var q = http.Request.Query;
                long? msn = q.TryGetValue("_HLS_msn", out var m) ? long.Parse(m!, CultureInfo.InvariantCulture) : null;
                int? part = q.TryGetValue("_HLS_part", out var p) ? int.Parse(p!, CultureInfo.InvariantCulture) : null;
                var result = await stream.GetMediaPlaylistAsync(file, msn, part, q["_HLS_skip"] == "YES", http.RequestAborted);
                (status, body) = (result.Status, result.Body);
            }

            await Write(http, status, body);
        });
        app.MapGet("/live/{name}/{sid}/{file}", async (string sid, string file, HttpContext http) =>
            await Write(http, PlaylistStatus.Ok, sid == stream.SessionId ? await stream.GetSessionFileAsync(file, http.RequestAborted) : null));
        await app.StartAsync();
        return app;

        static async Task Write(HttpContext http, PlaylistStatus status, StoredObject? body)
        {
            if (body is null || status != PlaylistStatus.Ok)
            {
                http.Response.StatusCode = status switch
                {
                    PlaylistStatus.BadRequest => 400,
                    PlaylistStatus.Unavailable => 503,
                    _ => 404,
                };
                return;
            }

            http.Response.ContentType = body.ContentType;
            http.Response.ContentLength = body.Length;
            http.Response.Headers.ETag = body.ETag;
            foreach (var chunk in body.Chunks)
            {
                await http.Response.Body.WriteAsync(chunk);
            }
        }
    }
}
