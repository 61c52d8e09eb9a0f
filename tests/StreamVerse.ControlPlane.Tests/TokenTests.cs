using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>RFC 8725 / RFC 9700 attacks against the access and refresh tokens.</summary>
public abstract class TokenTests(ControlPlaneApp app)
{
    private byte[] HmacKey => Convert.FromBase64String(File.ReadAllText(Path.Combine(app.DataDir, "keys", "jwt.key")));

    private static string B64(byte[] b) => Base64Url.EncodeToString(b);

    private static string B64(object o) => B64(JsonSerializer.SerializeToUtf8Bytes(o));

    private static Dictionary<string, object> Claims(Persona p, string role = "user", string iss = "streamverse", string aud = "streamverse-api", DateTimeOffset? exp = null)
    {
        var now = DateTimeOffset.UtcNow;
        return new()
        {
            ["sub"] = p.Id, ["sid"] = p.SessionId, ["role"] = role, ["iss"] = iss, ["aud"] = aud,
            ["iat"] = now.ToUnixTimeSeconds(), ["nbf"] = now.ToUnixTimeSeconds(), ["exp"] = (exp ?? now.AddMinutes(5)).ToUnixTimeSeconds(),
        };
    }

    private string Hs256(object header, object payload)
    {
        var input = B64(header) + "." + B64(payload);
        return input + "." + B64(HMACSHA256.HashData(HmacKey, Encoding.ASCII.GetBytes(input)));
    }

    private async Task<HttpStatusCode> MeStatus(string token)
    {
        using var r = await app.SendAsync(HttpMethod.Get, "api/v1/me", token);
        return r.StatusCode;
    }

    [Fact]
    public async Task A_correctly_forged_token_with_the_real_key_is_accepted_proving_the_attacks_below_are_well_formed()
    {
        var user = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await MeStatus(Hs256(new { alg = "HS256", typ = "at+jwt" }, Claims(user))));
    }

    [Fact]
    public async Task Alg_none_is_rejected()
    {
        var user = await app.NewUserAsync();
        var token = B64(new { alg = "none", typ = "at+jwt" }) + "." + B64(Claims(user)) + ".";
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(token));
        var upper = B64(new { alg = "None", typ = "at+jwt" }) + "." + B64(Claims(user)) + ".";
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(upper));
    }

    [Fact]
    public async Task RS_HS_confusion_is_rejected()
    {
        var user = await app.NewUserAsync();

        // RS256 declared, "signed" with the HMAC key as if it were key material.
        var input = B64(new { alg = "RS256", typ = "at+jwt" }) + "." + B64(Claims(user));
        var confused = input + "." + B64(HMACSHA256.HashData(HmacKey, Encoding.ASCII.GetBytes(input)));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(confused));

        // A genuine RS256 signature by some key, embedded as a JWK: also refused (the allow-list is HS256 only).
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var header = new { alg = "RS256", typ = "at+jwt", jwk = new { kty = "RSA", n = B64(p.Modulus!), e = B64(p.Exponent!) } };
        var rsInput = B64(header) + "." + B64(Claims(user));
        var rs = rsInput + "." + B64(rsa.SignData(Encoding.ASCII.GetBytes(rsInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(rs));

        // HS512 with the right key is still not HS256.
        var hs512Input = B64(new { alg = "HS512", typ = "at+jwt" }) + "." + B64(Claims(user));
        var hs512 = hs512Input + "." + B64(HMACSHA512.HashData(HmacKey, Encoding.ASCII.GetBytes(hs512Input)));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(hs512));
    }

    [Fact]
    public async Task Wrong_audience_issuer_type_or_expiry_is_rejected()
    {
        var user = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(Hs256(new { alg = "HS256", typ = "at+jwt" }, Claims(user, aud: "someone-else"))));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(Hs256(new { alg = "HS256", typ = "at+jwt" }, Claims(user, iss: "https://evil.test.invalid"))));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(Hs256(new { alg = "HS256", typ = "JWT" }, Claims(user))));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(Hs256(new { alg = "HS256" }, Claims(user))));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(Hs256(new { alg = "HS256", typ = "at+jwt" }, Claims(user, exp: DateTimeOffset.UtcNow.AddMinutes(-5)))));

        // Tampered payload (role elevated), original signature.
        var parts = user.AccessToken.Split('.');
        var tampered = parts[0] + "." + B64(Claims(user, role: "admin")) + "." + parts[2];
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(tampered));
    }

    [Fact]
    public async Task Refresh_token_is_not_an_access_token()
    {
        var user = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(user.RefreshToken));
    }

    [Fact]
    public async Task Refresh_rotates_and_replay_kills_the_whole_session_family()
    {
        var user = await app.NewUserAsync();
        var first = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = user.RefreshToken });
        var rotated = first.GetProperty("refreshToken").GetString()!;
        var access = first.GetProperty("accessToken").GetString()!;
        Assert.NotEqual(user.RefreshToken, rotated);
        Assert.Equal(user.SessionId, first.GetProperty("sessionId").GetString());
        Assert.Equal(HttpStatusCode.OK, await MeStatus(access));

        // The attacker replays the old token: refused, and the session dies with every token in it.
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = user.RefreshToken }, expect: HttpStatusCode.Unauthorized);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = rotated }, expect: HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(access));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(user.AccessToken));

        // Other sessions of the same account live on.
        var other = await app.LoginAsync(user.Email);
        Assert.Equal(HttpStatusCode.OK, await MeStatus(other.AccessToken));
    }

    [Fact]
    public async Task Logout_ends_the_session_and_its_tokens()
    {
        var user = await app.NewUserAsync();
        var other = await app.LoginAsync(user.Email);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/logout", user.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(user.AccessToken));
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = user.RefreshToken }, expect: HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, await MeStatus(other.AccessToken));
    }

    [Fact]
    public async Task Sessions_list_revoke_one_and_revoke_all()
    {
        var a = await app.NewUserAsync();
        var b = await app.LoginAsync(a.Email);
        var c = await app.LoginAsync(a.Email);
        var list = await app.JsonAsync(HttpMethod.Get, "api/v1/me/sessions", a.AccessToken);
        Assert.Equal(3, list.GetProperty("items").GetArrayLength());
        Assert.Single(list.GetProperty("items").EnumerateArray(), s => s.GetProperty("current").GetBoolean() && s.GetProperty("id").GetString() == a.SessionId);

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/me/sessions/{b.SessionId}", a.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(b.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await MeStatus(c.AccessToken));

        // Someone else's session id is not found, not revoked.
        var stranger = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/me/sessions/{c.SessionId}", stranger.AccessToken, expect: HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, await MeStatus(c.AccessToken));

        await app.JsonAsync(HttpMethod.Delete, "api/v1/me/sessions", c.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(a.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(c.AccessToken));
    }

    [Fact]
    public async Task A_revocation_written_by_another_process_reaches_this_one()
    {
        var user = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await MeStatus(user.AccessToken));

        // Another daemon on the same database revokes the session: only the row changes here.
        await using (var db = await app.Get<Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE sessions SET revoked_at = @now WHERE id = @id", [("now", DateTimeOffset.UtcNow), ("id", user.SessionId)], default);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await MeStatus(user.AccessToken) == HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatus(user.AccessToken));
    }

    [Fact]
    public async Task Login_does_the_same_work_for_unknown_emails_and_wrong_passwords()
    {
        // Not timed (timing under a loaded CI machine proves nothing): the work is counted. A login for an unknown
        // e-mail must run exactly one Argon2id computation, at the cost of a real hash, like a wrong password does;
        // a missing dummy verification would make it near-instant and tell attackers which e-mails exist.
        var user = await app.NewUserAsync();
        var hasher = app.Get<StreamVerse.ControlPlane.Accounts.PasswordHasher>();
        var stored = await ScalarAsync("SELECT password_hash FROM users WHERE id = @id", user.Id);
        Assert.Equal(hasher.DummyCost, ParseCost(stored));

        async Task<long> WorkFor(string email)
        {
            var before = hasher.Computations;
            using var r = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email, password = "wrong password" });
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            return hasher.Computations - before;
        }

        Assert.Equal(1, await WorkFor(user.Email));
        Assert.Equal(1, await WorkFor(ControlPlaneApp.NewEmail()));
    }

    private static (int, int) ParseCost(string phc)
    {
        // $argon2id$v=19$m=19456,t=2,p=1$salt$hash
        var fields = phc.Split('$')[3].Split(',').ToDictionary(kv => kv[..1], kv => int.Parse(kv[2..], System.Globalization.CultureInfo.InvariantCulture));
        return (fields["m"], fields["t"]);
    }

    private async Task<string> ScalarAsync(string sql, string id)
    {
        var database = app.Get<StreamVerse.ControlPlane.Data.Database>();
        await using var db = await database.OpenAsync(CancellationToken.None);
        return (await db.ScalarAsync<string>(sql, [("id", id)], CancellationToken.None))!;
    }

    [Fact]
    public async Task Access_tokens_have_the_rfc9068_shape()
    {
        var user = await app.NewUserAsync();
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(user.AccessToken.Split('.')[0])).RootElement;
        Assert.Equal("HS256", header.GetProperty("alg").GetString());
        Assert.Equal("at+jwt", header.GetProperty("typ").GetString());
        var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(user.AccessToken.Split('.')[1])).RootElement;
        var lifetime = payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64();
        Assert.InRange(lifetime, 60, 3600);
        Assert.Equal(user.SessionId, payload.GetProperty("sid").GetString());
    }

    [Fact]
    public void Generated_signing_keys_are_private_files()
    {
        foreach (var name in new[] { "jwt.key", "playback.key" })
        {
            var mode = File.GetUnixFileMode(Path.Combine(app.DataDir, "keys", name));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }

        Assert.NotEqual(File.ReadAllText(Path.Combine(app.DataDir, "keys", "jwt.key")), File.ReadAllText(Path.Combine(app.DataDir, "keys", "playback.key")));
    }
}

[Collection("sqlite")]
public sealed class TokenTestsSqlite(SqliteApp app) : TokenTests(app);

[Collection("postgres")]
public sealed class TokenTestsPostgres(PostgresApp app) : TokenTests(app);
