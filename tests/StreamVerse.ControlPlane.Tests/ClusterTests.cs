using System.Net.Http.Headers;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Two daemons as one cluster (<see cref="ClusterDaemonsApp"/>: shared PostgreSQL, Redis and uploads directory): what one node
/// decides, the other honours at once.
/// </summary>
[Collection("cluster-daemons")]
public sealed class ClusterTests(ClusterDaemonsApp app)
{
    private const string Tus = "1.0.0";

    [Fact]
    public async Task A_session_revoked_on_node_A_is_refused_on_node_B_without_waiting_for_Bs_poll()
    {
        var user = await app.NewUserAsync();
        var (tokenB, sessionB) = await LoginOnBAsync(user.Email);
        Assert.Equal(HttpStatusCode.OK, await MeOnBAsync(tokenB));

        // Signed out of B's session through A. B re-reads revocations from the database only hourly (the fixture): the push
        // through Redis is what must reach it.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/me/sessions/{sessionB}", user.AccessToken, expect: HttpStatusCode.NoContent);
        var status = HttpStatusCode.OK;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); status == HttpStatusCode.OK && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(50);
            status = await MeOnBAsync(tokenB);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Playback_tokens_withdrawn_on_node_A_are_refused_on_node_B_without_waiting_for_Bs_poll()
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        var viewer = await app.NewUserAsync();
        var token = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/playback-token", viewer.AccessToken, new { })).GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.NotFound, await VodOnBAsync(token, video)); // admitted (there is no media: 404, not 403)

        // Made private on A: earlier tokens of others are void. B learns it through Redis (its poll is hourly).
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "private" });
        var status = HttpStatusCode.NotFound;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); status == HttpStatusCode.NotFound && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(50);
            status = await VodOnBAsync(token, video);
        }

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    private async Task<HttpStatusCode> VodOnBAsync(string token, string video)
    {
        using var r = await app.HttpB.GetAsync($"{app.BaseUrlB}/vod/t/{token}/{video}/index.m3u8");
        return r.StatusCode;
    }

    [Fact]
    public async Task A_tus_upload_being_written_on_node_A_is_locked_on_node_B_and_resumes_there_afterwards()
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        var data = Enumerable.Range(0, 20).Select(i => (byte)(i * 7)).ToArray();
        var upload = await UploadTests.CreateAsync(app, owner, video, data.Length);
        var id = upload[(upload.LastIndexOf('/') + 1)..];
        var (tokenB, _) = await LoginOnBAsync(owner.Email);

        // A PATCH on A sends 5 of its 10 bytes and stalls: A holds the upload's lock.
        var rest = new TaskCompletionSource();
        var slow = new StalledContent(data[..5], data[5..10], rest.Task);
        var onA = SendAsync(app.Http, HttpMethod.Patch, app.BaseUrl + "/" + upload, owner.AccessToken, slow, ("Upload-Offset", "0"));
        await WaitForAdvisoryLockAsync(DbSession.LockKey("upload:" + id));

        // B, writing the same upload at the same offset meanwhile, is refused as A itself would refuse it.
        using (var r = await SendAsync(app.HttpB, HttpMethod.Patch, app.BaseUrlB + "/" + upload, tokenB, Chunk(data[..3]), ("Upload-Offset", "0")))
        {
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.Conflict, body);
            Assert.Contains("Another request is writing this upload", body, StringComparison.Ordinal);
        }

        rest.SetResult();
        using (var r = await onA)
        {
            Assert.True(r.StatusCode == HttpStatusCode.NoContent, await r.Content.ReadAsStringAsync());
            Assert.Equal("10", r.Headers.GetValues("Upload-Offset").Single());
        }

        // The client moves to B: B knows the offset (the shared row) and appends to the shared bytes.
        using (var head = await SendAsync(app.HttpB, HttpMethod.Head, app.BaseUrlB + "/" + upload, tokenB, null))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("10", head.Headers.GetValues("Upload-Offset").Single());
        }

        using (var r = await SendAsync(app.HttpB, HttpMethod.Patch, app.BaseUrlB + "/" + upload, tokenB, Chunk(data[10..]), ("Upload-Offset", "10")))
        {
            Assert.True(r.StatusCode == HttpStatusCode.NoContent, await r.Content.ReadAsStringAsync());
            Assert.Equal("20", r.Headers.GetValues("Upload-Offset").Single());
        }

        using (var head = await SendAsync(app.Http, HttpMethod.Head, app.BaseUrl + "/" + upload, owner.AccessToken, null))
        {
            Assert.Equal("20", head.Headers.GetValues("Upload-Offset").Single());
        }
    }

    private async Task<(string Token, string SessionId)> LoginOnBAsync(string email)
    {
        using var login = await app.HttpB.PostAsJsonAsync(app.BaseUrlB + "/api/v1/auth/login", new { email, password = ControlPlaneApp.Password });
        Assert.True(login.IsSuccessStatusCode, await login.Content.ReadAsStringAsync());
        var pair = await login.Content.ReadFromJsonAsync<JsonElement>();
        return (pair.GetProperty("accessToken").GetString()!, pair.GetProperty("sessionId").GetString()!);
    }

    private async Task<HttpStatusCode> MeOnBAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrlB + "/api/v1/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var r = await app.HttpB.SendAsync(request);
        return r.StatusCode;
    }

    private async Task WaitForAdvisoryLockAsync(long key)
    {
        // A bigint advisory key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
        await using var connection = new Npgsql.NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = @hi AND objid = @lo", connection);
        command.Parameters.AddWithValue("hi", (long)(uint)(key >> 32));
        command.Parameters.AddWithValue("lo", (long)(uint)key);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }
        }

        Assert.Fail("the upload's cluster-wide lock (a PostgreSQL advisory lock) was never taken");
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string url, string token, HttpContent? content,
        params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Tus-Resumable", Tus);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static ByteArrayContent Chunk(byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return content;
    }

    /// <summary>A body that sends its first bytes, then waits for <paramref name="release"/> before the rest.</summary>
    private sealed class StalledContent : HttpContent
    {
        private readonly byte[] _first;
        private readonly byte[] _rest;
        private readonly Task _release;

        public StalledContent(byte[] first, byte[] rest, Task release)
        {
            (_first, _rest, _release) = (first, rest, release);
            Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_first);
            await stream.FlushAsync();
            await _release;
            await stream.WriteAsync(_rest);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _first.Length + _rest.Length;
            return true;
        }
    }
}
