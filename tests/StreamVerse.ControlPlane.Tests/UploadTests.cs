using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Uploads;

using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>tus 1.0.0 on /api/v1/uploads and the single-request PUT /api/v1/videos/{id}/source, against the real daemon.</summary>
public abstract class UploadTests(UploadsApp app)
{
    private const string Tus = "1.0.0";

    internal static string Meta(params (string Key, string Value)[] pairs) =>
        string.Join(",", pairs.Select(p => p.Key + " " + Convert.ToBase64String(Encoding.UTF8.GetBytes(p.Value))));

    internal static string Sha1Hex(byte[] data) => Convert.ToHexStringLower(SHA1.HashData(data));

    internal static string Sha1Header(ReadOnlySpan<byte> data) => "sha1 " + Convert.ToBase64String(SHA1.HashData(data));

    internal static async Task<HttpResponseMessage> SendTusAsync(ControlPlaneApp app, HttpMethod method, string path, Persona? caller,
        HttpContent? content = null, string? tusVersion = Tus, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (caller is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.AccessToken);
        }

        if (tusVersion is not null)
        {
            request.Headers.Add("Tus-Resumable", tusVersion);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await app.Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, Persona? caller, HttpContent? content = null, string? tusVersion = Tus, params (string, string)[] headers) =>
        SendTusAsync(app, method, path, caller, content, tusVersion, headers);

    internal static ByteArrayContent Chunk(ReadOnlySpan<byte> data)
    {
        var content = new ByteArrayContent(data.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return content;
    }

    private async Task<(Persona Owner, string VideoId)> OwnerWithVideoAsync(string visibility = "public")
    {
        var owner = await app.NewUserAsync("creator");
        var video = await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), visibility);
        return (owner, video.GetProperty("id").GetString()!);
    }

    /// <summary>POST; returns the upload's path relative to the API base (from Location).</summary>
    internal static async Task<string> CreateAsync(ControlPlaneApp app, Persona owner, string videoId, long length)
    {
        using var r = await SendTusAsync(app, HttpMethod.Post, "api/v1/uploads", owner, null, Tus,
            ("Upload-Length", length.ToString(CultureInfo.InvariantCulture)), ("Upload-Metadata", Meta(("videoId", videoId), ("filename", "clip.mp4"), ("filetype", "video/mp4"))));
        Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        Assert.Equal(Tus, r.Headers.GetValues("Tus-Resumable").Single());
        var location = r.Headers.Location!.ToString();
        Assert.StartsWith("/api/v1/uploads/", location, StringComparison.Ordinal);
        return location.TrimStart('/');
    }

    private async Task<long> OffsetAsync(string upload, Persona caller)
    {
        using var r = await Send(HttpMethod.Head, upload, caller);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return long.Parse(r.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture);
    }

    private string PartFile(string upload) => Path.Combine(app.UploadsDir, upload[(upload.LastIndexOf('/') + 1)..] + ".part");

    private string SourceFile(string upload) => Path.Combine(app.UploadsDir, upload[(upload.LastIndexOf('/') + 1)..] + ".source");

    [Fact]
    public async Task Deleting_a_video_a_channel_or_an_account_removes_its_stored_media_and_unfinished_uploads()
    {
        var blobs = app.Get<StreamVerse.ControlPlane.Storage.IBlobStorage>();
        var source = Path.Combine(app.DataDir, "presentation-file.m4s");
        await File.WriteAllBytesAsync(source, new byte[64]);

        // One video with a stored presentation and an unfinished upload, per way of deleting it.
        async Task<(string Video, string Part, string Blob)> MediaAsync(Persona owner, string channel)
        {
            var video = (await app.NewVideoAsync(owner, channel, "public")).GetProperty("id").GetString()!;
            var blob = $"vod/{video}/v1/360p_1.m4s";
            await blobs.PutFileAsync(blob, source, "video/iso.segment", CancellationToken.None);
            var upload = await CreateAsync(app, owner, video, 100);
            using (var patched = await Send(HttpMethod.Patch, upload, owner, Chunk(new byte[10]), Tus, ("Upload-Offset", "0")))
            {
                Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
            }

            Assert.True(File.Exists(PartFile(upload)));
            Assert.NotNull(await blobs.StatAsync(blob, CancellationToken.None));
            return (video, PartFile(upload), blob);
        }

        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var byVideo = await MediaAsync(owner, channel);
        var otherChannel = await app.NewChannelAsync(owner);
        var byChannel = await MediaAsync(owner, otherChannel);
        var byAccount = await MediaAsync(owner, await app.NewChannelAsync(owner));

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{byVideo.Video}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{otherChannel}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", owner.AccessToken, new { password = owner.Password }, HttpStatusCode.NoContent);
        foreach (var (video, part, blob) in new[] { byVideo, byChannel, byAccount })
        {
            Assert.False(File.Exists(part), $"{video}: {part}");
            Assert.Null(await blobs.StatAsync(blob, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Options_advertises_version_extensions_max_size_and_checksum_algorithms()
    {
        using var r = await Send(HttpMethod.Options, "api/v1/uploads", caller: null, tusVersion: null);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Equal("1.0.0", r.Headers.GetValues("Tus-Version").Single());
        var extensions = r.Headers.GetValues("Tus-Extension").Single().Split(',');
        Assert.Superset(new HashSet<string> { "creation", "termination", "checksum", "expiration" }, extensions.ToHashSet());
        Assert.Equal(UploadsApp.MaxSize.ToString(CultureInfo.InvariantCulture), r.Headers.GetValues("Tus-Max-Size").Single());
        Assert.Contains("sha1", r.Headers.GetValues("Tus-Checksum-Algorithm").Single().Split(','));
    }

    [Fact]
    public async Task Chunks_with_checksums_complete_the_upload_and_hand_the_source_to_the_queue_once()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(300_000);
        using (var created = await Send(HttpMethod.Post, "api/v1/uploads", owner, null, Tus,
            ("Upload-Length", "300000"), ("Upload-Metadata", Meta(("videoId", videoId), ("filename", "clip.mp4")))))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var expires = DateTimeOffset.ParseExact(created.Headers.GetValues("Upload-Expires").Single(), "r", CultureInfo.InvariantCulture);
            Assert.True(expires > DateTimeOffset.UtcNow.AddHours(23), "default expiry is 24 h");
        }

        var upload = await CreateAsync(app, owner, videoId, data.Length);
        using (var head = await Send(HttpMethod.Head, upload, owner))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("0", head.Headers.GetValues("Upload-Offset").Single());
            Assert.Equal("300000", head.Headers.GetValues("Upload-Length").Single());
            Assert.Contains("videoId " + Convert.ToBase64String(Encoding.UTF8.GetBytes(videoId)), head.Headers.GetValues("Upload-Metadata").Single());
            Assert.True(head.Headers.CacheControl!.NoStore);
            Assert.Equal(Tus, head.Headers.GetValues("Tus-Resumable").Single());
        }

        for (var offset = 0; offset < data.Length; offset += 128 * 1024)
        {
            var chunk = data.AsMemory(offset, Math.Min(128 * 1024, data.Length - offset)).ToArray();
            using var r = await Send(HttpMethod.Patch, upload, owner, Chunk(chunk), Tus,
                ("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture)), ("Upload-Checksum", Sha1Header(chunk)));
            Assert.True(r.StatusCode == HttpStatusCode.NoContent, await r.Content.ReadAsStringAsync());
            Assert.Equal((offset + chunk.Length).ToString(CultureInfo.InvariantCulture), r.Headers.GetValues("Upload-Offset").Single());
            Assert.Equal(offset + chunk.Length, await OffsetAsync(upload, owner));
        }

        var job = Assert.Single(app.Jobs.Of(videoId));
        Assert.Equal(Sha1Hex(data), job.Sha1);
        Assert.Equal(SourceFile(upload), job.SourcePath);
        Assert.False(File.Exists(PartFile(upload)));

        // A repeated final PATCH (a client that lost the 204) changes nothing and enqueues nothing.
        using (var again = await Send(HttpMethod.Patch, upload, owner, Chunk([]), Tus, ("Upload-Offset", "300000")))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        Assert.Single(app.Jobs.Of(videoId));
    }

    [Fact]
    public async Task A_hand_over_the_queue_refused_is_retried_by_the_cleaner()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(1000);
        var upload = await CreateAsync(app, owner, videoId, data.Length);
        app.Jobs.RefuseNextOf = videoId;
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(data), Tus, ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Empty(app.Jobs.Of(videoId));
        Assert.True(File.Exists(SourceFile(upload)));
        await app.Get<UploadStore>().SweepAsync(CancellationToken.None);
        Assert.Equal(Sha1Hex(data), Assert.Single(app.Jobs.Of(videoId)).Sha1);
        await app.Get<UploadStore>().SweepAsync(CancellationToken.None);
        Assert.Single(app.Jobs.Of(videoId));
    }

    [Fact]
    public async Task One_patch_larger_than_kestrels_default_body_limit_is_accepted()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(40 * 1024 * 1024);
        var upload = await CreateAsync(app, owner, videoId, data.Length);
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(data), Tus, ("Upload-Offset", "0"), ("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData(data)))))
        {
            Assert.True(r.StatusCode == HttpStatusCode.NoContent, await r.Content.ReadAsStringAsync());
        }

        Assert.Equal(Sha1Hex(data), Assert.Single(app.Jobs.Of(videoId)).Sha1);
    }

    [Fact]
    public async Task Requests_without_the_supported_Tus_Resumable_get_412_with_Tus_Version()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var upload = await CreateAsync(app, owner, videoId, 10);
        foreach (var version in new string?[] { null, "0.2.2", "2.0.0" })
        {
            foreach (var (method, path, content) in new (HttpMethod, string, HttpContent?)[]
            {
                (HttpMethod.Post, "api/v1/uploads", null), (HttpMethod.Head, upload, null), (HttpMethod.Patch, upload, Chunk([1, 2])), (HttpMethod.Delete, upload, null),
            })
            {
                using var r = await Send(method, path, owner, content, version, ("Upload-Length", "10"), ("Upload-Offset", "0"), ("Upload-Metadata", Meta(("videoId", videoId))));
                Assert.True(r.StatusCode == HttpStatusCode.PreconditionFailed, $"{method} {version}: {(int)r.StatusCode}");
                Assert.Equal("1.0.0", r.Headers.GetValues("Tus-Version").Single());
                if (method != HttpMethod.Head)
                {
                    Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
                }
            }
        }

        Assert.Equal(0, await OffsetAsync(upload, owner));
    }

    [Fact]
    public async Task Patch_refuses_wrong_offset_409_wrong_type_415_and_bytes_past_the_length_413()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var upload = await CreateAsync(app, owner, videoId, 10);
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk([1, 2, 3]), Tus, ("Upload-Offset", "3")))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }

        var wrongType = new ByteArrayContent([1, 2, 3]);
        wrongType.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using (var r = await Send(HttpMethod.Patch, upload, owner, wrongType, Tus, ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        }

        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk([1, 2, 3]), Tus))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(new byte[11]), Tus, ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }

        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(new byte[4]), Tus, ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        // Past the length with a body of unknown length (chunked): read up to the limit, then refused and not kept.
        var chunked = new StreamContent(new MemoryStream(new byte[7]));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        using (var request = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = chunked })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", owner.AccessToken);
            request.Headers.Add("Tus-Resumable", Tus);
            request.Headers.Add("Upload-Offset", "4");
            request.Headers.TransferEncodingChunked = true;
            using var r = await app.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }

        Assert.Equal(4, await OffsetAsync(upload, owner));
        Assert.Equal(4, new FileInfo(PartFile(upload)).Length);
        Assert.Empty(app.Jobs.Of(videoId));
    }

    [Fact]
    public async Task Checksum_mismatch_is_460_and_the_chunk_is_not_kept()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(64 * 1024);
        var upload = await CreateAsync(app, owner, videoId, data.Length);
        using (var ok = await Send(HttpMethod.Patch, upload, owner, Chunk(data.AsSpan(0, 1000)), Tus, ("Upload-Offset", "0"), ("Upload-Checksum", Sha1Header(data.AsSpan(0, 1000)))))
        {
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        }

        var rest = data[1000..];
        var corrupted = rest.ToArray();
        corrupted[^1] ^= 0xFF;
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(corrupted), Tus, ("Upload-Offset", "1000"), ("Upload-Checksum", Sha1Header(rest))))
        {
            Assert.Equal(460, (int)r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(1000, await OffsetAsync(upload, owner));
        Assert.Equal(1000, new FileInfo(PartFile(upload)).Length);

        // md5 and sha256 are offered too; an algorithm we do not offer is a 400.
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(rest), Tus, ("Upload-Offset", "1000"), ("Upload-Checksum", "crc32 AAAAAA==")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(rest), Tus, ("Upload-Offset", "1000"), ("Upload-Checksum", "md5 " + Convert.ToBase64String(MD5.HashData(rest)))))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Equal(Sha1Hex(data), Assert.Single(app.Jobs.Of(videoId)).Sha1);
    }

    [Fact]
    public async Task Creation_validates_length_metadata_and_the_video()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        async Task Expect(HttpStatusCode status, Persona who, params (string, string)[] headers)
        {
            using var r = await Send(HttpMethod.Post, "api/v1/uploads", who, null, Tus, headers);
            Assert.True(r.StatusCode == status, $"{string.Join(";", headers)}: expected {(int)status}, got {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }

        var meta = Meta(("videoId", videoId));
        await Expect(HttpStatusCode.RequestEntityTooLarge, owner, ("Upload-Length", (UploadsApp.MaxSize + 1).ToString(CultureInfo.InvariantCulture)), ("Upload-Metadata", meta));
        await Expect(HttpStatusCode.Created, owner, ("Upload-Length", UploadsApp.MaxSize.ToString(CultureInfo.InvariantCulture)), ("Upload-Metadata", meta));
        await Expect(HttpStatusCode.BadRequest, owner, ("Upload-Metadata", meta));
        await Expect(HttpStatusCode.BadRequest, owner, ("Upload-Length", "-1"), ("Upload-Metadata", meta));
        await Expect(HttpStatusCode.BadRequest, owner, ("Upload-Length", "10"));
        await Expect(HttpStatusCode.BadRequest, owner, ("Upload-Length", "10"), ("Upload-Metadata", "videoId !!notbase64"));
        await Expect(HttpStatusCode.BadRequest, owner, ("Upload-Length", "10"), ("Upload-Metadata", meta + "," + meta));
        await Expect(HttpStatusCode.BadRequest, owner, ("Upload-Length", "10"), ("Upload-Metadata", Meta(("videoId", "nosuchvideo"))));
        await Expect(HttpStatusCode.BadRequest, owner, ("Upload-Defer-Length", "1"), ("Upload-Metadata", meta));

        var other = await app.NewUserAsync("creator");
        await Expect(HttpStatusCode.Forbidden, other, ("Upload-Length", "10"), ("Upload-Metadata", meta));
        await Expect(HttpStatusCode.Forbidden, await app.NewUserAsync(), ("Upload-Length", "10"), ("Upload-Metadata", meta));
        await Expect(HttpStatusCode.Created, await app.AdminAsync(), ("Upload-Length", "10"), ("Upload-Metadata", meta));

        // A video whose stream key is publishing (status is the server's: set as the ingest would).
        await using (var db = await app.Get<StreamVerse.ControlPlane.Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE videos SET status = 'live' WHERE id = @id", [("id", videoId)], default);
        }

        await Expect(HttpStatusCode.Conflict, owner, ("Upload-Length", "10"), ("Upload-Metadata", meta));
    }

    [Fact]
    public async Task Only_the_uploader_or_an_admin_sees_an_upload_others_get_404()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var upload = await CreateAsync(app, owner, videoId, 10);
        foreach (var stranger in new[] { await app.NewUserAsync(), await app.NewUserAsync("creator") })
        {
            using (var r = await Send(HttpMethod.Head, upload, stranger))
            {
                Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            }

            using (var r = await Send(HttpMethod.Patch, upload, stranger, Chunk([1]), Tus, ("Upload-Offset", "0")))
            {
                Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            }

            using (var r = await Send(HttpMethod.Delete, upload, stranger))
            {
                Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            }
        }

        using (var r = await Send(HttpMethod.Head, upload, caller: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        Assert.Equal(0, await OffsetAsync(upload, await app.AdminAsync()));
        Assert.True(File.Exists(PartFile(upload)));
    }

    [Fact]
    public async Task Delete_terminates_the_upload_and_removes_its_bytes()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var upload = await CreateAsync(app, owner, videoId, 10);
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk([1, 2, 3]), Tus, ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.True(File.Exists(PartFile(upload)));
        using (var r = await Send(HttpMethod.Delete, upload, owner))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            Assert.Equal(Tus, r.Headers.GetValues("Tus-Resumable").Single());
        }

        Assert.False(File.Exists(PartFile(upload)));
        using (var r = await Send(HttpMethod.Head, upload, owner))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk([4]), Tus, ("Upload-Offset", "3")))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
    }

    /// <summary>A raw HTTP/1.1 PATCH announcing <paramref name="announced"/> bytes of which only <paramref name="sent"/> go out before the connection drops.</summary>
    private async Task SendCutOffPatchAsync(string upload, Persona owner, byte[] data, int sent, string? checksum)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync("127.0.0.1", app.HttpPort);
        var stream = socket.GetStream();
        var head = $"PATCH /{upload} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {owner.AccessToken}\r\nTus-Resumable: 1.0.0\r\n" +
            (checksum is null ? "" : $"Upload-Checksum: {checksum}\r\n") +
            $"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {data.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(data.AsMemory(0, sent));
        await stream.FlushAsync();
        await Task.Delay(300);
        socket.Client.LingerState = new LingerOption(true, 0);
    }

    [Fact]
    public async Task A_body_cut_off_without_a_checksum_keeps_what_arrived_and_the_client_resumes_from_HEAD()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(100_000);
        var upload = await CreateAsync(app, owner, videoId, data.Length);
        await SendCutOffPatchAsync(upload, owner, data, 40_000, checksum: null);

        // The server notices the reset on its own schedule: wait (bounded) for the offset to settle.
        var offset = 0L;
        for (var i = 0; i < 100 && offset == 0; i++)
        {
            await Task.Delay(100);
            offset = await OffsetAsync(upload, owner);
        }

        Assert.Equal(40_000, offset);
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(data.AsSpan(40_000)), Tus, ("Upload-Offset", "40000"), ("Upload-Checksum", Sha1Header(data.AsSpan(40_000)))))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Equal(Sha1Hex(data), Assert.Single(app.Jobs.Of(videoId)).Sha1);
    }

    [Fact]
    public async Task A_body_cut_off_with_a_checksum_is_not_kept()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(100_000);
        var upload = await CreateAsync(app, owner, videoId, data.Length);
        await SendCutOffPatchAsync(upload, owner, data, 40_000, Sha1Header(data));

        // The cut-off request holds the upload until the server has seen the reset; a PATCH from offset 0 then
        // succeeds only if the partial chunk was discarded (otherwise the offset would be 40000: 409).
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(data), Tus, ("Upload-Offset", "0"), ("Upload-Checksum", Sha1Header(data))))
        {
            Assert.True(r.StatusCode == HttpStatusCode.NoContent, await r.Content.ReadAsStringAsync());
        }

        Assert.Equal(Sha1Hex(data), Assert.Single(app.Jobs.Of(videoId)).Sha1);
    }

    [Fact]
    public async Task A_partial_upload_survives_a_restart_and_bytes_past_the_stored_offset_are_cut_off()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(200_000);
        var upload = await CreateAsync(app, owner, videoId, data.Length);
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(data.AsSpan(0, 120_000)), Tus, ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        // A crash in the middle of a write: bytes on disk past the committed offset, more of them than the rest of
        // the file, so an append that merely overwrote them would leave a tail behind.
        await using (var part = new FileStream(PartFile(upload), FileMode.Append))
        {
            await part.WriteAsync(RandomNumberGenerator.GetBytes(100_000));
        }

        await app.RestartAsync();
        Assert.Equal(120_000, await OffsetAsync(upload, owner));
        using (var r = await Send(HttpMethod.Patch, upload, owner, Chunk(data.AsSpan(120_000)), Tus, ("Upload-Offset", "120000")))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Equal(Sha1Hex(data), Assert.Single(app.Jobs.Of(videoId)).Sha1);
    }

    [Fact]
    public async Task Browser_tus_clients_may_read_the_tus_headers_through_cors()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var upload = await CreateAsync(app, owner, videoId, 10);
        using (var preflight = new HttpRequestMessage(HttpMethod.Options, upload))
        {
            preflight.Headers.Add("Origin", "https://app.test.invalid");
            preflight.Headers.Add("Access-Control-Request-Method", "PATCH");
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,tus-resumable,upload-offset,upload-checksum");
            using var r = await app.Http.SendAsync(preflight);
            Assert.Equal("https://app.test.invalid", r.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("PATCH", r.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        }

        using var head = await Send(HttpMethod.Head, upload, owner, null, Tus, ("Origin", "https://app.test.invalid"));
        var exposed = string.Join(",", head.Headers.GetValues("Access-Control-Expose-Headers")).Split(',').Select(h => h.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Superset(new HashSet<string>(["Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable", "Tus-Version", "Tus-Max-Size"], StringComparer.OrdinalIgnoreCase), exposed);
    }


    [Fact]
    public async Task Tus_js_client_is_interrupted_mid_upload_and_resumes_from_the_servers_offset()
    {
        var browser = Path.Combine(TestProcesses.RepoRoot, "tests", "browser");
        Assert.True(Directory.Exists(Path.Combine(browser, "node_modules", "tus-js-client")), "run ./setup.sh deps (npm ci in tests/browser)");
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 12345);
        var file = Path.Combine(app.DataDir, "tus-source-" + Guid.NewGuid().ToString("N") + ".bin");
        await File.WriteAllBytesAsync(file, data);

        var run = await Task.Run(() => StreamVerse.Tests.Shared.TestProcesses.Run(TimeSpan.FromMinutes(2), "node",
            Path.Combine(browser, "tus-upload.mjs"), app.BaseUrl + "/api/v1/uploads", owner.AccessToken, file, videoId, "--interrupt-after", "700000"));
        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        var result = JsonDocument.Parse(run.StdOut).RootElement;
        var resumedFrom = result.GetProperty("resumedFrom").GetInt64();
        Assert.InRange(resumedFrom, 1, data.Length - 1);
        Assert.Equal(0, resumedFrom % (256 * 1024));
        Assert.Equal(data.Length, result.GetProperty("bytes").GetInt64());
        var uploadUrl = result.GetProperty("uploadUrl").GetString()!;
        Assert.StartsWith(app.BaseUrl + "/api/v1/uploads/", uploadUrl, StringComparison.Ordinal);

        var job = Assert.Single(app.Jobs.Of(videoId));
        Assert.Equal(Sha1Hex(data), job.Sha1);
        Assert.Equal(data.Length, await OffsetAsync(uploadUrl[(app.BaseUrl.Length + 1)..], owner));
    }

    [Fact]
    public async Task Plain_put_stores_the_source_and_answers_202_with_the_job()
    {
        var (owner, videoId) = await OwnerWithVideoAsync();
        var data = RandomNumberGenerator.GetBytes(300_000);
        using (var r = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{videoId}/source", owner.AccessToken, content: new ByteArrayContent(data)))
        {
            Assert.True(r.StatusCode == HttpStatusCode.Accepted, await r.Content.ReadAsStringAsync());
            var body = await r.Content.ReadFromJsonAsync<JsonElement>();
            var job = Assert.Single(app.Jobs.Of(videoId));
            Assert.Equal(job.JobId, body.GetProperty("jobId").GetString());
            Assert.Equal(Sha1Hex(data), job.Sha1);
        }

        using (var r = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{videoId}/source", owner.AccessToken, content: new ByteArrayContent(new byte[UploadsApp.MaxSinglePut + 1])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }

        var creator = await app.NewUserAsync("creator");
        using (var r = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{videoId}/source", creator.AccessToken, content: new ByteArrayContent(data)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        using (var r = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{videoId}/source", (await app.NewUserAsync()).AccessToken, content: new ByteArrayContent(data)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        var (_, privateVideo) = await OwnerWithVideoAsync("private");
        using (var r = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{privateVideo}/source", creator.AccessToken, content: new ByteArrayContent(data)))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        Assert.Single(app.Jobs.Of(videoId));
        Assert.Empty(app.Jobs.Of(privateVideo));
    }
}

public sealed class UploadTestsSqlite(UploadsSqliteApp app) : UploadTests(app), IClassFixture<UploadsSqliteApp>;

public sealed class UploadTestsPostgres(UploadsPostgresApp app) : UploadTests(app), IClassFixture<UploadsPostgresApp>;

/// <summary>Expiration: an unfinished upload past Upload-Expires is 410, and the cleaner removes its row and bytes.</summary>
public abstract class UploadExpiryTests(ExpiringUploadsApp app)
{
    [Fact]
    public async Task An_expired_upload_is_410_and_the_cleaner_removes_row_and_file()
    {
        var owner = await app.NewUserAsync("creator");
        var videoId = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        var upload = await UploadTests.CreateAsync(app, owner, videoId, 100);
        using (var r = await UploadTests.SendTusAsync(app, HttpMethod.Patch, upload, owner, UploadTests.Chunk(new byte[10]), "1.0.0", ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        var part = Path.Combine(app.UploadsDir, upload[(upload.LastIndexOf('/') + 1)..] + ".part");
        Assert.True(File.Exists(part));

        // Expiry is 2 s after the last write; wait for it (bounded), never asserting how long it took.
        var status = HttpStatusCode.OK;
        for (var i = 0; i < 100 && status == HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
            using var head = await UploadTests.SendTusAsync(app, HttpMethod.Head, upload, owner);
            status = head.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Gone, status);
        using (var r = await UploadTests.SendTusAsync(app, HttpMethod.Patch, upload, owner, UploadTests.Chunk(new byte[10]), "1.0.0", ("Upload-Offset", "10")))
        {
            Assert.Equal(HttpStatusCode.Gone, r.StatusCode);
        }

        Assert.True(File.Exists(part), "the bytes stay until the cleaner runs");
        Assert.True(await app.Get<UploadStore>().SweepAsync(CancellationToken.None) >= 1);
        Assert.False(File.Exists(part));
        using (var head = await UploadTests.SendTusAsync(app, HttpMethod.Head, upload, owner))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        Assert.Empty(app.Jobs.Of(videoId));
    }

    [Fact]
    public async Task Part_files_whose_video_row_is_gone_are_removed_by_the_cleaner()
    {
        var owner = await app.NewUserAsync("creator");
        var videoId = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        var upload = await UploadTests.CreateAsync(app, owner, videoId, 100);
        using (var r = await UploadTests.SendTusAsync(app, HttpMethod.Patch, upload, owner, UploadTests.Chunk(new byte[10]), "1.0.0", ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        // A deletion removes its uploads' files after its commit (VideoMedia); a daemon that died in between leaves them
        // with no row: what the cleaner's orphan pass is for. The row goes here as it would have, by cascade.
        await using (var db = await app.Get<StreamVerse.ControlPlane.Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("DELETE FROM videos WHERE id = @id", [("id", videoId)], default);
        }

        var part = Path.Combine(app.UploadsDir, upload[(upload.LastIndexOf('/') + 1)..] + ".part");
        Assert.True(File.Exists(part), "the rows cascade, the file does not");
        for (var i = 0; i < 100 && File.Exists(part); i++)
        {
            await Task.Delay(100);
            await app.Get<UploadStore>().SweepAsync(CancellationToken.None);
        }

        Assert.False(File.Exists(part));
    }
}

public sealed class UploadExpiryTestsSqlite(ExpiringUploadsSqliteApp app) : UploadExpiryTests(app), IClassFixture<ExpiringUploadsSqliteApp>;

public sealed class UploadExpiryTestsPostgres(ExpiringUploadsPostgresApp app) : UploadExpiryTests(app), IClassFixture<ExpiringUploadsPostgresApp>;
