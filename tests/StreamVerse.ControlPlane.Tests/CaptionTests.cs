using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using StreamVerse.ControlPlane.Captions;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Videos;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Captions end to end at the API and the origin: uploads (WebVTT, SubRip) checked and stored as WebVTT, listed in the
/// video resource, added to the published HLS and DASH entry manifests and removed from them, and served with the
/// video's own access rules. The presentation is a real one (a 2 s 160x120 clip through MediaCore's ladder).
/// </summary>
public abstract class CaptionTests(ControlPlaneApp app)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    internal const string Srt = "1\r\n00:00:00,500 --> 00:00:01,500\r\n<font color=\"red\">Hello</font> & <i>welcome</i>\r\n\r\n2\r\n00:00:01,600 --> 00:00:01,900\r\nSecond line\r\n";

    internal const string Vtt = "WEBVTT\n\n00:00.000 --> 00:01.800 line:90%\nBonjour\n";

    private static readonly Lazy<Task<string>> Presentation = new(async () =>
    {
        var root = Directory.CreateTempSubdirectory("sv-cc-src-").FullName;
        var source = Path.Combine(root, "src.mp4");
        var made = TestProcesses.Run(Long, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "aac", "-shortest", source);
        Assert.True(made.ExitCode == 0, made.StdErr);
        var output = Path.Combine(root, "out");
        await new Transcoder().TranscodeAsync(source, output, new LadderOptions
        {
            SegmentDuration = TimeSpan.FromSeconds(1),
            Preset = "ultrafast",
            Rungs = [new LadderRung(120, 200_000)],
        }, null, CancellationToken.None);
        return output;
    });

    private protected async Task<(string Id, Persona Owner)> PublishedVideoAsync(string visibility)
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), visibility)).GetProperty("id").GetString()!;
        var storage = app.Get<IBlobStorage>();
        foreach (var file in Directory.EnumerateFiles(await Presentation.Value))
        {
            var name = Path.GetFileName(file);
            await storage.PutFileAsync($"vod/{id}/v1/{name}", file, MediaContentTypes.Of(name), CancellationToken.None);
        }

        await using (var db = await app.Get<Database>().OpenAsync(CancellationToken.None))
        {
            await db.ExecAsync("UPDATE videos SET vod_prefix = @p, status = 'ready', duration_seconds = 2 WHERE id = @id",
                [("p", $"vod/{id}/v1"), ("id", id)], CancellationToken.None);
        }

        app.Get<VodCatalog>().Invalidate(id);
        return (id, owner);
    }

    private protected Task<HttpResponseMessage> PutAsync(string id, string language, string body, string? token, string? label = null, string type = "text/plain") =>
        PutBytesAsync(id, language, Encoding.UTF8.GetBytes(body), token, label, type);

    private Task<HttpResponseMessage> PutBytesAsync(string id, string language, byte[] body, string? token, string? label = null, string type = "text/plain")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        var query = label is null ? "" : "?label=" + Uri.EscapeDataString(label);
        return app.SendAsync(HttpMethod.Put, $"api/v1/videos/{id}/captions/{language}{query}", token, content: content);
    }

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response, HttpStatusCode expect)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"expected {(int)expect}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<string> GetTextAsync(string url, HttpStatusCode expect = HttpStatusCode.OK)
    {
        using var response = await app.Http.GetAsync(url.TrimStart('/'));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"{url}: expected {(int)expect}, got {(int)response.StatusCode}: {text}");
        return text;
    }

    [Fact]
    public async Task A_SubRip_upload_is_stored_as_WebVTT_and_listed_in_the_video_and_a_second_upload_replaces_it()
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public")).GetProperty("id").GetString()!;

        using var put = await PutAsync(id, "pt-br", Srt, owner.AccessToken, label: "Português (Brasil)", type: "application/x-subrip");
        var created = await JsonOf(put, HttpStatusCode.Created);
        Assert.Equal("pt-BR", created.GetProperty("language").GetString());
        Assert.Equal("upload", created.GetProperty("source").GetString());

        var video = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken);
        var caption = Assert.Single(video.GetProperty("captions").EnumerateArray());
        Assert.Equal("pt-BR", caption.GetProperty("language").GetString());
        Assert.Equal("Português (Brasil)", caption.GetProperty("label").GetString());
        var url = caption.GetProperty("url").GetString()!;
        Assert.Matches("^/vod/" + id + "/captions/pt-BR-[A-Za-z0-9_-]{16}\\.vtt$", url);

        // Stored as WebVTT: timings with a full stop, the <font> tag dropped, the bare & escaped, <i> kept.
        var key = $"vod/{id}/captions/{url[(url.LastIndexOf('/') + 1)..]}";
        var stored = await ReadBlobAsync(key);
        Assert.Equal("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello &amp; <i>welcome</i>\n\n00:00:01.600 --> 00:00:01.900\nSecond line\n", stored);

        // The same language again replaces the track (200), and its previous file goes.
        using var again = await PutAsync(id, "pt-BR", Vtt, owner.AccessToken);
        var replaced = await JsonOf(again, HttpStatusCode.OK);
        Assert.Equal("pt-BR", replaced.GetProperty("label").GetString());
        Assert.NotEqual(url, replaced.GetProperty("url").GetString());
        Assert.Null(await app.Get<IBlobStorage>().StatAsync(key, CancellationToken.None));

        // The anonymous list and the public resource show the tracks too.
        await using (var db = await app.Get<Database>().OpenAsync(CancellationToken.None))
        {
            await db.ExecAsync("UPDATE videos SET vod_prefix = 'vod/x/y', status = 'ready' WHERE id = @id", [("id", id)], CancellationToken.None);
        }

        var anonymous = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}");
        Assert.Equal("pt-BR", anonymous.GetProperty("captions")[0].GetProperty("language").GetString());
    }

    [Theory]
    [InlineData("en", "WEBVTT\n\n00:00:01.000 --> 00:00:00.500\nbackwards\n", "file", "line 3: the cue ends before it starts")]
    [InlineData("en", "WEBVTT\n\n00:00:61.000 --> 00:01:02.000\nx\n", "file", "line 3: \"00:00:61.000\" is not a cue start time")]
    [InlineData("en", "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nx\n", "file", "line 3: expected a cue timing line")]
    [InlineData("en", "WEBVTT\n\nNOTE nothing but a note\n", "file", "has no cues")]
    [InlineData("en", "1\n00:00:01,000 --> 00:00:02,00\nshort millis\n", "file", "line 2: \"00:00:02,00\" is not a cue end time")]
    [InlineData("en", "Just some text\nthat is no caption file\n", "file", "is neither WebVTT")]
    [InlineData("english!", Vtt, "language", "must be a BCP 47 language tag")]
    [InlineData("en-", Vtt, "language", "must be a BCP 47 language tag")]
    public async Task A_bad_caption_is_refused_with_a_problem_naming_what_is_wrong(string language, string body, string field, string message)
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public")).GetProperty("id").GetString()!;
        using var response = await PutAsync(id, language, body, owner.AccessToken);
        var problem = await JsonOf(response, HttpStatusCode.BadRequest);
        Assert.Contains(message, problem.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("captions").EnumerateArray());
    }

    [Fact]
    public async Task Not_UTF_8_a_quoted_label_and_an_oversized_file_are_refused()
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public")).GetProperty("id").GetString()!;

        // Latin-1 "é" (0xE9) alone is not UTF-8.
        using (var latin1 = await PutBytesAsync(id, "fr", [.. "WEBVTT\n\n00:00.000 --> 00:01.000\nCaf"u8, 0xE9, (byte)'\n'], owner.AccessToken))
        {
            var problem = await JsonOf(latin1, HttpStatusCode.BadRequest);
            Assert.Contains("is not UTF-8", problem.GetProperty("errors").GetProperty("file")[0].GetString(), StringComparison.Ordinal);
        }

        using (var quoted = await PutAsync(id, "fr", Vtt, owner.AccessToken, label: "Fran\"çais"))
        {
            var problem = await JsonOf(quoted, HttpStatusCode.BadRequest);
            Assert.Contains("quotes", problem.GetProperty("errors").GetProperty("label")[0].GetString(), StringComparison.Ordinal);
        }

        var big = new StringBuilder("WEBVTT\n");
        while (big.Length <= new CaptionOptions().MaxBytes)
        {
            big.Append("\n00:00.000 --> 00:01.000\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
        }

        // Expect: 100-continue, as browsers and curl send large bodies: the 413 comes before the body is sent (without it
        // the client may see its write cut off instead of the answer).
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/videos/{id}/captions/fr") { Content = new StringContent(big.ToString()) };
        request.Headers.Authorization = new("Bearer", owner.AccessToken);
        request.Headers.ExpectContinue = true;
        using var large = await app.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
    }

    [Fact]
    public async Task Only_the_owner_or_an_admin_changes_captions_and_a_private_video_stays_hidden()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var visible = (await app.NewVideoAsync(owner, channel, "public")).GetProperty("id").GetString()!;
        var hidden = (await app.NewVideoAsync(owner, channel, "private")).GetProperty("id").GetString()!;
        var other = await app.NewUserAsync("creator");

        using (var r = await PutAsync(visible, "en", Vtt, other.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        using (var r = await PutAsync(hidden, "en", Vtt, other.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{visible}/captions/en", other.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        var admin = await app.AdminAsync();
        using (var r = await PutAsync(hidden, "en", Vtt, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        // Idempotent delete: 204 for a track that is there and for one that is not.
        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{hidden}/captions/en", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{hidden}/captions/en", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }
    }

    [Fact]
    public async Task Captions_join_the_published_manifests_and_leave_them_when_removed()
    {
        var (id, owner) = await PublishedVideoAsync("public");
        var before = await GetTextAsync($"vod/{id}/index.m3u8");
        Assert.DoesNotContain("SUBTITLES", before, StringComparison.Ordinal);

        using (var r = await PutAsync(id, "en", Srt, owner.AccessToken, label: "English"))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        using (var r = await PutAsync(id, "fr", Vtt, owner.AccessToken, label: "Français"))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        var captions = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}")).GetProperty("captions").EnumerateArray()
            .ToDictionary(c => c.GetProperty("language").GetString()!, c => c.GetProperty("url").GetString()!);
        var enFile = captions["en"][(captions["en"].LastIndexOf('/') + 1)..];
        var frFile = captions["fr"][(captions["fr"].LastIndexOf('/') + 1)..];

        // HLS: one subtitle rendition per language in group "subs", named by every variant (RFC 8216bis §4.4.6.1-2).
        var master = await GetTextAsync($"vod/{id}/index.m3u8");
        Assert.Contains($"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"en\",NAME=\"English\",DEFAULT=NO,AUTOSELECT=YES,URI=\"captions/{Path.ChangeExtension(enFile, ".m3u8")}\"", master, StringComparison.Ordinal);
        Assert.Contains("LANGUAGE=\"fr\",NAME=\"Français\"", master, StringComparison.Ordinal);
        var variants = master.Split('\n').Where(l => l.StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(variants);
        Assert.All(variants, v => Assert.EndsWith(",SUBTITLES=\"subs\"", v, StringComparison.Ordinal));

        var playlist = await GetTextAsync($"vod/{id}/captions/{Path.ChangeExtension(enFile, ".m3u8")}");
        Assert.Contains($"#EXTINF:2.00000,\n{enFile}\n#EXT-X-ENDLIST", playlist, StringComparison.Ordinal);
        Assert.StartsWith("WEBVTT", await GetTextAsync(captions["en"]), StringComparison.Ordinal);

        // hls-parser (strict) accepts the master, the media and the subtitle playlists.
        var lint = TestProcesses.Run(Long, "node", Path.Combine(TestProcesses.RepoRoot, "tests", "browser", "lint-hls.mjs"), $"{app.BaseUrl}/vod/{id}/index.m3u8");
        Assert.True(lint.ExitCode == 0, lint.StdOut + lint.StdErr);

        // The served files are WebVTT to ffprobe too (ffmpeg 5.1's HLS and DASH demuxers skip subtitle renditions, so
        // the language tags are checked in the playlist text above).
        foreach (var url in captions.Values)
        {
            var probe = TestProcesses.Run(Long, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", $"{app.BaseUrl}{url}");
            Assert.True(probe.ExitCode == 0 && probe.StdOut.Trim() == "webvtt", url + ": " + probe.StdOut + probe.StdErr);
        }

        // DASH: a text AdaptationSet per language, its BaseURL leaving the version folder for captions/.
        var mpd = await GetTextAsync($"vod/{id}/index.mpd");
        Assert.Contains("contentType=\"text\" mimeType=\"text/vtt\" lang=\"en\"", mpd, StringComparison.Ordinal);
        Assert.Contains($"<BaseURL>../captions/{frFile}</BaseURL>", mpd, StringComparison.Ordinal);
        Assert.Contains("<Label>Français</Label>", mpd, StringComparison.Ordinal);
        System.Xml.Linq.XDocument.Parse(mpd);

        // Removed: gone from both indexes at once, and its file answers 404 (even though this process had it in memory).
        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{id}/captions/fr", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        var after = await GetTextAsync($"vod/{id}/index.m3u8");
        Assert.DoesNotContain("LANGUAGE=\"fr\"", after, StringComparison.Ordinal);
        Assert.Contains("LANGUAGE=\"en\"", after, StringComparison.Ordinal);
        Assert.DoesNotContain("lang=\"fr\"", await GetTextAsync($"vod/{id}/index.mpd"), StringComparison.Ordinal);
        await GetTextAsync(captions["fr"], HttpStatusCode.NotFound);

        // The last track removed: the index is the version's own again.
        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{id}/captions/en", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Equal(before, await GetTextAsync($"vod/{id}/index.m3u8"));
    }

    [Fact]
    public async Task A_private_videos_captions_play_only_under_its_playback_token()
    {
        var (id, owner) = await PublishedVideoAsync("private");
        using (var r = await PutAsync(id, "de", Vtt, owner.AccessToken, label: "Deutsch"))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        var url = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("captions")[0].GetProperty("url").GetString()!;
        Assert.StartsWith("/vod/t/", url, StringComparison.Ordinal);
        var file = url[(url.LastIndexOf('/') + 1)..];
        Assert.StartsWith("WEBVTT", await GetTextAsync(url), StringComparison.Ordinal);

        // Without the token: neither the file, nor its playlist, nor an index that would name it.
        await GetTextAsync($"vod/{id}/captions/{file}", HttpStatusCode.Forbidden);
        await GetTextAsync($"vod/{id}/captions/{Path.ChangeExtension(file, ".m3u8")}", HttpStatusCode.Forbidden);
        await GetTextAsync($"vod/{id}/index.m3u8", HttpStatusCode.Forbidden);

        // Under the token, the index names the track relative to the token path.
        var token = url["/vod/t/".Length..url.IndexOf('/', "/vod/t/".Length)];
        Assert.Contains("LANGUAGE=\"de\"", await GetTextAsync($"vod/t/{token}/{id}/index.m3u8"), StringComparison.Ordinal);

        // Someone else: the video (and so its captions) does not exist for them.
        var stranger = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", stranger.AccessToken, expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deleting_the_video_removes_its_caption_files()
    {
        var (id, owner) = await PublishedVideoAsync("public");
        using var put = await PutAsync(id, "en", Vtt, owner.AccessToken);
        var url = (await JsonOf(put, HttpStatusCode.Created)).GetProperty("url").GetString()!;
        var key = url.TrimStart('/');
        Assert.NotNull(await app.Get<IBlobStorage>().StatAsync(key, CancellationToken.None));
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{id}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Null(await app.Get<IBlobStorage>().StatAsync(key, CancellationToken.None));
    }

    private async Task<string> ReadBlobAsync(string key)
    {
        var got = await app.Get<IBlobStorage>().GetAsync(key, CancellationToken.None);
        Assert.NotNull(got);
        await using var stream = got.Value.Content;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }
}

/// <summary>On SQLite only, the browser checks (the database plays no part in them, and Chromium is the suite's dearest tool).</summary>
[Collection("sqlite")]
public sealed class CaptionTestsSqlite(SqliteApp app) : CaptionTests(app)
{
    [Theory]
    [InlineData("hls", "index.m3u8")]
    [InlineData("dash", "index.mpd")]
    public async Task Players_in_Chromium_list_the_tracks_with_their_languages_and_show_cues(string player, string index)
    {
        var (id, owner) = await PublishedVideoAsync("public");
        using (var r = await PutAsync(id, "en", Srt, owner.AccessToken, label: "English"))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        using (var r = await PutAsync(id, "fr", Vtt, owner.AccessToken, label: "Français"))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        var run = TestProcesses.Run(TimeSpan.FromMinutes(2), "node", Path.Combine(TestProcesses.RepoRoot, "tests", "browser", "captions.mjs"), player, $"{app.BaseUrl}/vod/{id}/{index}");
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
        using var result = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var tracks = result.RootElement.GetProperty("tracks").EnumerateArray().Select(t => t.GetProperty("lang").GetString()).Order().ToList();
        Assert.Equal(["en", "fr"], tracks);
        Assert.Contains(result.RootElement.GetProperty("textTracks").EnumerateArray(), t => t.GetProperty("cues").GetInt32() > 0);
    }
}

[Collection("postgres")]
public sealed class CaptionTestsPostgres(PostgresApp app) : CaptionTests(app);
