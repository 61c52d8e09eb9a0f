using System.Buffers.Text;
using System.Security.Cryptography;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The playback token itself: no host needed.</summary>
public sealed class PlaybackTokenUnitTests
{
    private static readonly PlaybackTokens Tokens = new(RandomNumberGenerator.GetBytes(32));
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static byte[] Ip(string ip) => IPAddress.Parse(ip).MapToIPv6().GetAddressBytes();

    [Fact]
    public void Verifies_for_its_video_until_expiry_only()
    {
        var token = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), "viewer", null);
        Assert.True(Tokens.Verify(token, "vid_1", Now, default));
        Assert.False(Tokens.Verify(token, "vid_2", Now, default));
        Assert.False(Tokens.Verify(token, "vid_1", Now + 301, default));
        Assert.False(new PlaybackTokens(RandomNumberGenerator.GetBytes(32)).Verify(token, "vid_1", Now, default));
    }

    [Fact]
    public void Any_flipped_bit_is_refused()
    {
        var token = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), "viewer", null);
        var bytes = Base64Url.DecodeFromChars(token);
        for (var i = 0; i < bytes.Length * 8; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i / 8] ^= (byte)(1 << (i % 8));
            Assert.False(Tokens.Verify(Base64Url.EncodeToString(copy), "vid_1", Now, default), $"bit {i}");
        }

        Assert.False(Tokens.Verify(token + "A", "vid_1", Now, default));
        Assert.False(Tokens.Verify(token.AsSpan(0, token.Length - 1), "vid_1", Now, default));
        Assert.False(Tokens.Verify("", "vid_1", Now, default));
        Assert.False(Tokens.Verify("!!!!", "vid_1", Now, default));
        Assert.False(Tokens.Verify(new string('A', 4000), "vid_1", Now, default));
    }

    [Fact]
    public void Ip_bound_tokens_need_that_address()
    {
        var token = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), null, IPAddress.Parse("127.0.0.1"));
        Assert.True(Tokens.Verify(token, "vid_1", Now, Ip("127.0.0.1")));
        Assert.True(Tokens.Verify(token, "vid_1", Now, Ip("::ffff:127.0.0.1")));
        Assert.False(Tokens.Verify(token, "vid_1", Now, Ip("127.0.0.2")));
        Assert.False(Tokens.Verify(token, "vid_1", Now, default));
    }

    [Fact]
    public void The_premium_flag_is_read_from_the_token_and_cannot_be_added_to_one()
    {
        var premium = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), "viewer", IPAddress.Loopback, premium: true);
        var plain = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), "viewer", null);
        Assert.True(Tokens.Verify(premium, "vid_1", Now, Ip("127.0.0.1")));
        Assert.True(PlaybackTokens.ClaimsPremium(premium));
        Assert.False(PlaybackTokens.ClaimsPremium(plain));

        // Setting the flag on a plain viewer's token (or clearing it) breaks the MAC.
        var bytes = Base64Url.DecodeFromChars(plain);
        bytes[1] |= 2;
        var forged = Base64Url.EncodeToString(bytes);
        Assert.True(PlaybackTokens.ClaimsPremium(forged));
        Assert.False(Tokens.Verify(forged, "vid_1", Now, default));

        // Unknown flags are refused; junk claims nothing and does not throw.
        bytes = Base64Url.DecodeFromChars(plain);
        bytes[1] |= 4;
        Assert.False(Tokens.Verify(Base64Url.EncodeToString(bytes), "vid_1", Now, default));
        foreach (var junk in (string[])["", "A", "AAA", "!!!!", "AAAA", new string('_', 200)])
        {
            Assert.False(PlaybackTokens.ClaimsPremium(junk), junk);
        }
    }

    [Fact]
    public void The_expiry_is_read_from_the_token()
    {
        var expires = DateTimeOffset.UtcNow.AddMinutes(5);
        Assert.Equal(expires.ToUnixTimeSeconds(), PlaybackTokens.ExpiresAt(Tokens.Issue("vid_1", expires, "viewer", IPAddress.Loopback, premium: true)));
        foreach (var junk in (string[])["", "AAAA", "!!!!!!!!!!!!!!!!", new string('_', 200)])
        {
            Assert.Null(PlaybackTokens.ExpiresAt(junk));
        }
    }

    [Fact]
    public void The_issue_time_and_viewer_come_back_from_verification_and_version_1_tokens_still_verify()
    {
        var issued = DateTimeOffset.UtcNow.AddSeconds(-3);
        var token = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), "viewer-9", null, issued: issued);
        Span<char> viewer = stackalloc char[PlaybackTokens.MaxViewerBytes];
        Assert.True(Tokens.Verify(token, "vid_1", Now, default, out var at, viewer, out var n));
        Assert.Equal(issued.ToUnixTimeMilliseconds(), at);
        Assert.Equal("viewer-9", viewer[..n].ToString());

        // Version 1 (before the issue time was added): version | flags | expiry | viewer length | viewer | MAC. It still
        // plays until it expires, as issued at 0, so that any withdrawal voids it.
        var key = RandomNumberGenerator.GetBytes(32);
        byte[] body = [1, 0, .. BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(Now + 300)), 2, (byte)'v', (byte)'w'];
        byte[] input = [.. "streamverse-playback-v1\0"u8, .. body, .. "vid_1"u8, 0];
        var mac = HMACSHA256.HashData(key, input);
        var v1 = Base64Url.EncodeToString([.. body, .. mac]);
        var tokens = new PlaybackTokens(key);
        Assert.True(tokens.Verify(v1, "vid_1", Now, default, out at, viewer, out n));
        Assert.Equal(0, at);
        Assert.Equal("vw", viewer[..n].ToString());
        Assert.Equal(Now + 300, PlaybackTokens.ExpiresAt(v1));
        Assert.False(tokens.Verify(v1, "vid_2", Now, default));
    }

    [Fact]
    public void Verification_allocates_nothing()
    {
        var token = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), "viewer-123", IPAddress.Loopback);
        var ip = Ip("127.0.0.1");
        Assert.True(Tokens.Verify(token, "vid_1", Now, ip));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Tokens.Verify(token, "vid_1", Now, ip);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>Issuing tokens through the API, and the origin's check on <c>/live/...</c>.</summary>
public abstract class PlaybackTests(ControlPlaneApp app)
{
    [Fact]
    public async Task Premium_videos_need_a_premium_account_private_ones_the_owner()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var premium = (await app.NewVideoAsync(owner, channel, "premium")).GetProperty("id").GetString()!;
        var priv = (await app.NewVideoAsync(owner, channel, "private")).GetProperty("id").GetString()!;
        var pub = (await app.NewVideoAsync(owner, channel, "public")).GetProperty("id").GetString()!;
        var plain = await app.NewUserAsync();
        var subscriber = await app.NewUserAsync(premium: true);

        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{premium}/playback-token", plain.AccessToken, new { }, HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{premium}/playback-token", subscriber.AccessToken, new { });
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{premium}/playback-token", owner.AccessToken, new { });
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{priv}/playback-token", subscriber.AccessToken, new { }, HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{priv}/playback-token", (await app.AdminAsync()).AccessToken, new { });
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{pub}/playback-token", plain.AccessToken, new { });
    }

    [Fact]
    public async Task Deleted_videos_play_to_nobody_in_this_process_and_in_others_until_their_recordings_are_gone()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var byVideo = (await app.NewVideoAsync(owner, channel, "private")).GetProperty("id").GetString()!;
        var byChannel = (await app.NewVideoAsync(owner, channel, "public")).GetProperty("id").GetString()!;
        var leaver = await app.NewUserAsync("creator");
        var byAccount = (await app.NewVideoAsync(leaver, await app.NewChannelAsync(leaver), "premium")).GetProperty("id").GetString()!;
        var token = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{byVideo}/playback-token", owner.AccessToken, new { })).GetProperty("token").GetString()!;

        // Public: nothing live, so 404 (the name may play); after the deletes, 403 for every way in.
        using (var r = await app.Http.GetAsync($"live/{byChannel}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{byVideo}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", leaver.AccessToken, new { password = ControlPlaneApp.Password }, HttpStatusCode.NoContent);
        foreach (var path in (string[])[$"live/{byVideo}/index.m3u8", $"live/t/{token}/{byVideo}/index.m3u8", $"vod/t/{token}/{byVideo}/index.m3u8",
            $"live/{byChannel}/index.m3u8", $"live/{byChannel}/index.mpd", $"live/{byAccount}/index.m3u8"])
        {
            using var r = await app.Http.GetAsync(path);
            Assert.True(r.StatusCode == HttpStatusCode.Forbidden, $"{path}: {r.StatusCode}");
        }

        // Another process sharing the database learns it at its next reload, which also forgets ids deleted longer
        // ago than the retention (by then no node holds their recordings).
        var options = app.Get<Microsoft.Extensions.Options.IOptions<ControlPlaneOptions>>();
        Assert.Equal(TimeSpan.FromDays(8), options.Value.DeletedVideoRetention);
        var old = "old" + Guid.NewGuid().ToString("N")[..20];
        await using (var db = await app.Get<Data.Database>().OpenAsync(CancellationToken.None))
        {
            await db.ExecAsync("INSERT INTO deleted_videos (id, deleted_at) VALUES (@id, @at)",
                [("id", old), ("at", DateTimeOffset.UtcNow - options.Value.DeletedVideoRetention - TimeSpan.FromHours(1))], CancellationToken.None);
        }

        var other = new ProtectedVideos(app.Get<Data.Database>(), options, TimeProvider.System);
        await other.ReloadAsync(CancellationToken.None);
        Assert.All((string[])[byVideo, byChannel, byAccount], id => Assert.True(other.IsDeleted(id) && other.IsProtected(id), id));
        Assert.False(other.IsDeleted(old));
    }

    [Fact]
    public async Task Origin_refuses_protected_streams_without_a_valid_token_and_passes_public_ones()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var priv = (await app.NewVideoAsync(owner, channel, "private")).GetProperty("id").GetString()!;
        var pub = (await app.NewVideoAsync(owner, channel, "public")).GetProperty("id").GetString()!;

        // Public: no token needed (404 only because nothing is live).
        using (var r = await app.Http.GetAsync($"live/{pub}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        using (var r = await app.Http.GetAsync($"live/{priv}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }

        using (var r = await app.Http.GetAsync($"live/{priv}/SESSION/video_1.m4s"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        var issued = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{priv}/playback-token", owner.AccessToken, new { bindToIp = true });
        var token = issued.GetProperty("token").GetString()!;
        Assert.Equal($"/live/t/{token}/{priv}/index.m3u8", issued.GetProperty("hlsUrl").GetString());
        Assert.Equal($"/vod/t/{token}/{priv}/index.m3u8", issued.GetProperty("vodHlsUrl").GetString());
        Assert.Equal($"/vod/t/{token}/{priv}/index.mpd", issued.GetProperty("vodDashUrl").GetString());

        // A valid token passes the check (and then 404: nothing is live).
        using (var r = await app.Http.GetAsync($"live/t/{token}/{priv}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        // A token for one video does not open another; a tampered one opens nothing.
        using (var r = await app.Http.GetAsync($"live/t/{token}/{pub}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        var tampered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        using (var r = await app.Http.GetAsync($"live/t/{tampered}/{priv}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        // Expired: signed with the daemon's key, a minute in the past.
        var tokens = app.Get<PlaybackTokens>();
        var expired = tokens.Issue(priv, DateTimeOffset.UtcNow.AddMinutes(-1), null, null);
        using (var r = await app.Http.GetAsync($"live/t/{expired}/{priv}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        // Making the video public opens the plain URL at once.
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{priv}", owner.AccessToken, new { visibility = "public" });
        using (var r = await app.Http.GetAsync($"live/{priv}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
    }
}

[Collection("sqlite")]
public sealed class PlaybackTestsSqlite(SqliteApp app) : PlaybackTests(app);

[Collection("postgres")]
public sealed class PlaybackTestsPostgres(PostgresApp app) : PlaybackTests(app);
