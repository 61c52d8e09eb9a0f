using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

public abstract class AccountTests(ControlPlaneApp app)
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    [Fact]
    public async Task Register_login_read_and_update_profile()
    {
        var email = ControlPlaneApp.NewEmail();
        var handle = ControlPlaneApp.NewHandle();
        var reg = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = "  " + email.ToUpperInvariant() + " ", password = ControlPlaneApp.Password, handle, displayName = "Ada" }, expect: HttpStatusCode.Accepted);
        Assert.Equal("accepted", reg.GetProperty("status").GetString());

        var user = await app.LoginAsync(email);
        var me = await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken);
        Assert.Equal(email, me.GetProperty("email").GetString());
        Assert.Equal(handle, me.GetProperty("handle").GetString());
        Assert.Equal("Ada", me.GetProperty("displayName").GetString());
        Assert.Equal("user", me.GetProperty("role").GetString());

        var updated = await app.JsonAsync(HttpMethod.Patch, "api/v1/me", user.AccessToken, new { displayName = "Ada L.", bio = "engines" });
        Assert.Equal("Ada L.", updated.GetProperty("displayName").GetString());
        Assert.Equal("engines", updated.GetProperty("bio").GetString());

        var pub = await app.JsonAsync(HttpMethod.Get, $"api/v1/users/{user.Id}");
        Assert.Equal("Ada L.", pub.GetProperty("displayName").GetString());
        Assert.False(pub.TryGetProperty("email", out _));
    }

    [Fact]
    public async Task Validation_errors_are_problem_details_with_field_errors()
    {
        using var r = await app.SendAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = "nope", password = "short", handle = "X!" });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var errors = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("password", out _));
        Assert.True(errors.TryGetProperty("handle", out _));

        var user = await app.NewUserAsync();
        using var r2 = await app.SendAsync(HttpMethod.Patch, "api/v1/me", user.AccessToken, new { displayName = "", bio = new string('x', 2001) });
        var e2 = (await r2.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(e2.TryGetProperty("displayName", out _));
        Assert.True(e2.TryGetProperty("bio", out _));
    }

    [Fact]
    public async Task No_enumeration_same_answers_for_taken_email_and_for_unknown_email()
    {
        var user = await app.NewUserAsync();
        var again = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = user.Email, password = "another password", handle = ControlPlaneApp.NewHandle() }, expect: HttpStatusCode.Accepted);
        var fresh = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = ControlPlaneApp.NewEmail(), password = "another password", handle = ControlPlaneApp.NewHandle() }, expect: HttpStatusCode.Accepted);
        Assert.Equal(fresh.GetRawText(), again.GetRawText());

        // The second registration changed nothing: the first password still works, the second does not.
        await app.LoginAsync(user.Email);
        using var wrong = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = "another password" });
        using var unknown = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = ControlPlaneApp.NewEmail(), password = "another password" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var a = await wrong.Content.ReadFromJsonAsync<JsonElement>();
        var b = await unknown.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(a.GetProperty("detail").GetString(), b.GetProperty("detail").GetString());
        Assert.Equal(a.GetProperty("title").GetString(), b.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Taken_handle_is_a_conflict_whichever_email_comes_with_it()
    {
        // Handles are public: if the owner's e-mail got a different answer from anyone else's, registering a known
        // handle would tell which e-mail owns it.
        var handle = ControlPlaneApp.NewHandle();
        var email = ControlPlaneApp.NewEmail();
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = ControlPlaneApp.Password, handle }, expect: HttpStatusCode.Accepted);
        var owners = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = "another password", handle }, expect: HttpStatusCode.Conflict);
        var strangers = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = ControlPlaneApp.NewEmail(), password = "another password", handle }, expect: HttpStatusCode.Conflict);
        Assert.Equal(strangers.EnumerateObject().Select(p => p.Name), owners.EnumerateObject().Select(p => p.Name));
        Assert.Equal(strangers.GetProperty("title").GetString(), owners.GetProperty("title").GetString());
        Assert.Equal(strangers.GetProperty("detail").GetString(), owners.GetProperty("detail").GetString());
        await app.LoginAsync(email);
    }

    [Fact]
    public async Task Login_failures_are_rate_limited_per_account_with_retry_after()
    {
        var user = await app.NewUserAsync();
        for (var i = 0; i < 5; i++)
        {
            using var r = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = "wrong password " + i });
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        using var limited = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = ControlPlaneApp.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }

    [Fact]
    public async Task Concurrent_wrong_logins_get_no_more_verifications_than_the_per_account_limit()
    {
        // The place in the window is taken before the password is verified: 30 guesses sent at once must not all
        // pass the check before the first failure is counted.
        var user = await app.NewUserAsync();
        var hasher = app.Get<Accounts.PasswordHasher>();
        var before = hasher.Computations;
        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            using var r = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = "wrong password " + i });
            return (r.StatusCode, r.Headers.RetryAfter?.Delta, r.Content.Headers.ContentType?.MediaType);
        }));

        Assert.Equal(5, hasher.Computations - before);
        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Unauthorized), a =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, a.StatusCode);
            Assert.True(a.Delta > TimeSpan.FromMinutes(1), $"Retry-After {a.Delta}");
            Assert.Equal("application/problem+json", a.MediaType);
        });
        using var locked = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = ControlPlaneApp.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
    }

    [Fact]
    public async Task Concurrent_right_logins_for_one_account_all_succeed()
    {
        // More at once than the per-account limit: running attempts hold places, but a success gives its place back
        // (and forgives the account's failures), so none is refused for the others still running.
        var user = await app.NewUserAsync();
        using (var wrong = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = "wrong password" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            using var r = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = ControlPlaneApp.Password });
            return r.StatusCode;
        }));
        Assert.All(answers, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task Over_long_passwords_are_refused_before_any_verification()
    {
        // No password can be longer than 256 characters (registration and password change refuse them), so a longer
        // one is bad input: a 400 naming the field, no Argon2id time and no place in the login windows.
        var user = await app.NewUserAsync();
        var hasher = app.Get<Accounts.PasswordHasher>();
        var before = hasher.Computations;
        var tooLong = new string('x', 257);
        var login = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = tooLong }, expect: HttpStatusCode.BadRequest);
        Assert.True(login.GetProperty("errors").TryGetProperty("password", out _));
        var change = await app.JsonAsync(HttpMethod.Post, "api/v1/me/password", user.AccessToken, new { currentPassword = tooLong, newPassword = "a new long password" }, HttpStatusCode.BadRequest);
        Assert.True(change.GetProperty("errors").TryGetProperty("currentPassword", out _));
        var delete = await app.JsonAsync(HttpMethod.Delete, "api/v1/me", user.AccessToken, new { password = tooLong }, HttpStatusCode.BadRequest);
        Assert.True(delete.GetProperty("errors").TryGetProperty("password", out _));
        Assert.Equal(before, hasher.Computations);

        // 256 is still a password to check.
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = tooLong[..256] }, expect: HttpStatusCode.Unauthorized);
        await app.LoginAsync(user.Email);
    }

    [Fact]
    public async Task Account_deletion_password_counts_against_the_account_like_a_login()
    {
        var user = await app.NewUserAsync();
        for (var i = 0; i < 5; i++)
        {
            await app.JsonAsync(HttpMethod.Delete, "api/v1/me", user.AccessToken, new { password = "wrong password " + i }, HttpStatusCode.BadRequest);
        }

        // The sixth attempt is refused before the password is checked, even the right one; the account is still there.
        using (var limited = await app.SendAsync(HttpMethod.Delete, "api/v1/me", user.AccessToken, new { password = ControlPlaneApp.Password }))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }

        await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = user.Email, password = ControlPlaneApp.Password }, expect: HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Passwords_are_stored_as_argon2id_phc_strings()
    {
        var user = await app.NewUserAsync();
        var db = app.Get<Data.Database>();
        await using var s = await db.OpenAsync(default);
        var hash = await s.ScalarAsync<string>("SELECT password_hash FROM users WHERE id = @id", [("id", user.Id)], default);
        Assert.Matches(@"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$", hash);
        var m = System.Text.RegularExpressions.Regex.Match(hash!, @"m=(\d+),t=(\d+)");
        Assert.True(int.Parse(m.Groups[1].Value) >= 19456);
        Assert.True(int.Parse(m.Groups[2].Value) >= 2);
    }

    [Fact]
    public async Task Password_change_ends_every_session()
    {
        var user = await app.NewUserAsync();
        var second = await app.LoginAsync(user.Email);
        using (var bad = await app.SendAsync(HttpMethod.Post, "api/v1/me/password", user.AccessToken, new { currentPassword = "not it at all", newPassword = "a new long password" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using (var ok = await app.SendAsync(HttpMethod.Post, "api/v1/me/password", user.AccessToken, new { currentPassword = ControlPlaneApp.Password, newPassword = "a new long password" }))
        {
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        }

        foreach (var p in new[] { user, second })
        {
            using var me = await app.SendAsync(HttpMethod.Get, "api/v1/me", p.AccessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
            using var refresh = await app.SendAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = p.RefreshToken });
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        }

        await app.LoginAsync(user.Email, "a new long password");
    }

    [Fact]
    public async Task Avatar_upload_checks_magic_bytes_and_size_and_is_served()
    {
        var user = await app.NewUserAsync();
        using (var png = new ByteArrayContent(Png))
        {
            png.Headers.ContentType = new("image/png");
            using var r = await app.SendAsync(HttpMethod.Put, "api/v1/me/avatar", user.AccessToken, content: png);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var url = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("avatarUrl").GetString()!;
            using var get = await app.Http.GetAsync(url.TrimStart('/'));
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            // Decoded and re-encoded by MediaCore, like every uploaded picture: a JPEG of our own, not the bytes sent.
            Assert.Equal("image/jpeg", get.Content.Headers.ContentType?.MediaType);
            Assert.Equal(("mjpeg", 2, 2), ChannelPictureTests.Pictures.Probe(await get.Content.ReadAsByteArrayAsync()));
        }

        using (var fake = new ByteArrayContent("<svg onload=alert(1)>"u8.ToArray()))
        {
            fake.Headers.ContentType = new("image/png");
            using var r = await app.SendAsync(HttpMethod.Put, "api/v1/me/avatar", user.AccessToken, content: fake);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        }

        var big = new byte[3 * 1024 * 1024];
        Png.CopyTo(big, 0);
        using (var large = new ByteArrayContent(big))
        {
            // Expect: 100-continue, as browsers and curl send large bodies: the 413 comes before the body is sent. Without
            // it the daemon answers at once and closes (it drains no more than the avatar's cap), and the client, still
            // writing its 3 MiB, sometimes saw a broken pipe instead of the answer.
            large.Headers.ContentType = new("image/png");
            using var request = new HttpRequestMessage(HttpMethod.Put, "api/v1/me/avatar") { Content = large };
            request.Headers.Authorization = new("Bearer", user.AccessToken);
            request.Headers.ExpectContinue = true;
            using var r = await app.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }

        Assert.NotEmpty(Directory.GetFiles(Path.Combine(app.DataDir, "blobs", "avatars")));
    }

    [Fact]
    public async Task Account_deletion_removes_content_anonymises_and_revokes_sessions()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var video = await app.NewVideoAsync(creator, channel);
        using (var png = new ByteArrayContent(Png))
        {
            png.Headers.ContentType = new("image/png");
            using var r = await app.SendAsync(HttpMethod.Put, "api/v1/me/avatar", creator.AccessToken, content: png);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", creator.AccessToken, new { password = "wrong password" }, HttpStatusCode.BadRequest);
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", creator.AccessToken, new { password = ControlPlaneApp.Password }, HttpStatusCode.NoContent);

        await app.JsonAsync(HttpMethod.Get, "api/v1/me", creator.AccessToken, expect: HttpStatusCode.Unauthorized);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = creator.RefreshToken }, expect: HttpStatusCode.Unauthorized);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = creator.Email, password = ControlPlaneApp.Password }, expect: HttpStatusCode.Unauthorized);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}", expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video.GetProperty("id").GetString()}", expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/users/{creator.Id}", expect: HttpStatusCode.NotFound);
        Assert.Empty(Directory.GetFiles(Path.Combine(app.DataDir, "blobs", "avatars"), creator.Id + "*"));

        await using var s = await app.Get<Data.Database>().OpenAsync(default);
        var email = await s.ScalarAsync<string>("SELECT email FROM users WHERE id = @id", [("id", creator.Id)], default);
        Assert.DoesNotContain(creator.Email, email);

        // The e-mail is free again.
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = creator.Email, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() }, expect: HttpStatusCode.Accepted);
        await app.LoginAsync(creator.Email);
    }

    [Fact]
    public async Task A_login_with_a_huge_email_is_refused_before_the_throttle_or_the_hasher_sees_it()
    {
        var throttle = app.Get<Accounts.LoginThrottle>();
        var hasher = app.Get<Accounts.PasswordHasher>();
        var (keys, hashes) = (throttle.TrackedKeys, hasher.Computations);

        // The review's request: a 20 MB e-mail. Over the account endpoints' body limit: 413 before the body is read
        // (Expect: 100-continue, so the client does not even send it).
        using (var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/auth/login")
        {
            Content = new StringContent($"{{\"email\":\"{new string('a', 20 << 20)}@x.com\",\"password\":\"whatever password\"}}", System.Text.Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.ExpectContinue = true;
            using var huge = await app.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
            Assert.Equal("application/problem+json", huge.Content.Headers.ContentType?.MediaType);
        }

        // Under the body limit but over RFC 5321's: a 400 naming the field. So are control characters.
        foreach (var email in new[] { new string('a', 300) + "@x.com", new string('a', 65) + "@x.com", "a\u0000@x.com", "a\r\nBcc: b@x.com" })
        {
            var problem = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email, password = "whatever password" }, expect: HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _), email);
        }

        Assert.Equal(keys, throttle.TrackedKeys);
        Assert.Equal(hashes, hasher.Computations);
    }

    [Fact]
    public async Task Account_requests_over_16_KiB_are_refused_with_413()
    {
        var user = await app.NewUserAsync();
        var admin = await app.AdminAsync();
        var pad = new string('p', 17 * 1024);
        var requests = new (HttpMethod Method, string Path, string? Token, object Body)[]
        {
            // The padding sits in a field each request declares: an undeclared one is refused by name as soon as the
            // reader meets its name, before the body's size is known (RequestBodyErrors).
            (HttpMethod.Post, "api/v1/auth/register", null, new { email = ControlPlaneApp.NewEmail(), password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle(), displayName = pad }),
            (HttpMethod.Post, "api/v1/auth/login", null, new { email = user.Email, password = pad }),
            (HttpMethod.Post, "api/v1/auth/refresh", null, new { refreshToken = pad }),
            (HttpMethod.Post, "api/v1/me/password", user.AccessToken, new { currentPassword = ControlPlaneApp.Password, newPassword = pad }),
            (HttpMethod.Patch, "api/v1/me", user.AccessToken, new { bio = pad }),
            (HttpMethod.Delete, "api/v1/me", user.AccessToken, new { password = pad }),
            (HttpMethod.Put, $"api/v1/users/{user.Id}/premium", admin.AccessToken, new { premium = pad }),
        };
        foreach (var (method, path, token, body) in requests)
        {
            using var r = await app.SendAsync(method, path, token, body);
            Assert.True(r.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{method} {path}: {(int)r.StatusCode}");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }

        // A chunked body (no Content-Length) is cut off at the limit too.
        using (var chunked = new StringContent($"{{\"email\":\"{user.Email}\",\"password\":\"{pad}\"}}", System.Text.Encoding.UTF8, "application/json"))
        {
            chunked.Headers.ContentLength = null;
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/auth/login") { Content = chunked };
            request.Headers.TransferEncodingChunked = true;
            using var r = await app.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }

        // None of them happened: the account is as it was, its sessions alive.
        await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken);
        await app.LoginAsync(user.Email);
    }

    [Fact]
    public async Task Emails_with_control_characters_are_refused_and_addresses_are_normalised_the_same_at_every_door()
    {
        foreach (var email in new[] { "a\u0000@x.com", "a\u0007b@x.com", "a b@x.com", "a\u200b@x.com", "a@x", new string('l', 65) + "@x.com" })
        {
            var problem = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() }, expect: HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _), email);
        }

        // Registered with an upper-case internationalised domain, logged in with the lower-case A-label.
        var local = "u" + Guid.NewGuid().ToString("N")[..12];
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = $" {local.ToUpperInvariant()}@B\u00dcCHER.example ", password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() }, expect: HttpStatusCode.Accepted);
        var user = await app.LoginAsync($"{local}@xn--bcher-kva.example");
        Assert.Equal($"{local}@xn--bcher-kva.example", (await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken)).GetProperty("email").GetString());
        await app.LoginAsync($"{local}@b\u00fccher.EXAMPLE");
    }

    [Fact]
    public async Task A_demoted_admin_loses_admin_rights_at_once_and_cannot_refresh_into_them()
    {
        // The review's sequence: an admin is demoted; with the access token it still holds, it re-promotes itself,
        // demotes the admin that demoted it, and refreshes into a new admin token.
        var admin = await app.NewUserAsync("admin");
        var demoted = await app.NewUserAsync("admin");
        var other = await app.LoginAsync(demoted.Email);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{demoted.Id}/role", admin.AccessToken, new { role = "user" });

        foreach (var token in new[] { demoted.AccessToken, other.AccessToken })
        {
            await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{demoted.Id}/role", token, new { role = "admin" }, HttpStatusCode.Unauthorized);
            await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{admin.Id}/role", token, new { role = "user" }, HttpStatusCode.Unauthorized);
        }

        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = demoted.RefreshToken }, expect: HttpStatusCode.Unauthorized);
        Assert.Equal("admin", (await app.JsonAsync(HttpMethod.Get, "api/v1/me", admin.AccessToken)).GetProperty("role").GetString());

        // Signing in again gives a token with the role the account has now.
        var again = await app.LoginAsync(demoted.Email);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{demoted.Id}/role", again.AccessToken, new { role = "admin" }, HttpStatusCode.Forbidden);
        Assert.Equal("user", (await app.JsonAsync(HttpMethod.Get, "api/v1/me", again.AccessToken)).GetProperty("role").GetString());
    }

    [Fact]
    public async Task An_admin_token_is_checked_against_the_current_role_even_when_no_session_was_revoked_here()
    {
        // What another process sharing the database sees: the role changed there, this process revoked nothing.
        var admin = await app.NewUserAsync("admin");
        var target = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{target.Id}/premium", admin.AccessToken, new { premium = true });
        await using (var db = await app.Get<Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE users SET role = 'user' WHERE id = @id", [("id", admin.Id)], default);
        }

        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{target.Id}/premium", admin.AccessToken, new { premium = false }, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_role_change_ends_the_accounts_sessions_and_an_unchanged_role_ends_none()
    {
        var admin = await app.AdminAsync();
        var user = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{user.Id}/role", admin.AccessToken, new { role = "user" });
        await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken);

        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{user.Id}/role", admin.AccessToken, new { role = "creator" });
        await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken, expect: HttpStatusCode.Unauthorized);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = user.RefreshToken }, expect: HttpStatusCode.Unauthorized);
        var creator = await app.LoginAsync(user.Email);
        await app.NewChannelAsync(creator);

        // A creator demoted to user loses creator endpoints at once too.
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{user.Id}/role", admin.AccessToken, new { role = "user" });
        await app.JsonAsync(HttpMethod.Post, "api/v1/channels", creator.AccessToken, new { name = "after demotion" }, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_admin_can_sign_an_account_out_everywhere()
    {
        var admin = await app.AdminAsync();
        var user = await app.NewUserAsync();
        var second = await app.LoginAsync(user.Email);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/users/{user.Id}/sessions", admin.AccessToken, expect: HttpStatusCode.NoContent);
        foreach (var p in new[] { user, second })
        {
            await app.JsonAsync(HttpMethod.Get, "api/v1/me", p.AccessToken, expect: HttpStatusCode.Unauthorized);
            await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = p.RefreshToken }, expect: HttpStatusCode.Unauthorized);
        }

        await app.JsonAsync(HttpMethod.Delete, "api/v1/users/nosuchuser/sessions", admin.AccessToken, expect: HttpStatusCode.NotFound);
        await app.LoginAsync(user.Email);
    }

    [Fact]
    public async Task Bootstrap_admin_email_makes_that_account_admin()
    {
        var admin = await app.AdminAsync();
        var me = await app.JsonAsync(HttpMethod.Get, "api/v1/me", admin.AccessToken);
        Assert.Equal("admin", me.GetProperty("role").GetString());
    }
}

/// <summary>
/// The bootstrap e-mail after the first admin: these tests delete the bootstrap account, so each runs on a daemon of
/// its own (a class fixture), not on the collection's shared one whose admin the other tests use.
/// </summary>
public abstract class BootstrapAdminTests(ControlPlaneApp app)
{
    [Fact]
    public async Task Bootstrap_email_makes_an_admin_only_while_no_admin_exists()
    {
        var bootstrap = await app.AdminAsync();
        Assert.Equal("admin", await RoleAsync(bootstrap));
        var second = await app.NewUserAsync("admin");

        // Deleting the account frees the e-mail; whoever registers it next must not become an admin while one exists.
        await DeleteAsync(bootstrap);
        var again = await RegisterBootstrapAsync();
        Assert.Equal("user", await RoleAsync(again));

        // The last admin cannot delete itself (409): a deployment that has an admin keeps one.
        await DeleteAsync(again);
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", second.AccessToken, new { password = second.Password }, HttpStatusCode.Conflict);
        Assert.Equal("admin", await RoleAsync(second));

        // With no admin left (only the database can get there now: an operator's recovery), the bootstrap e-mail is
        // again how a deployment gets its first one.
        await using (var db = await app.Get<Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE users SET role = 'user' WHERE id = @id", [("id", second.Id)], default);
        }

        Assert.Equal("admin", await RoleAsync(await RegisterBootstrapAsync()));
    }

    private async Task<Persona> RegisterBootstrapAsync()
    {
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = ControlPlaneApp.AdminEmail, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() }, expect: HttpStatusCode.Accepted);
        return await app.LoginAsync(ControlPlaneApp.AdminEmail);
    }

    private async Task DeleteAsync(Persona who) =>
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", who.AccessToken, new { password = who.Password }, HttpStatusCode.NoContent);

    private async Task<string?> RoleAsync(Persona who) => (await app.JsonAsync(HttpMethod.Get, "api/v1/me", who.AccessToken)).GetProperty("role").GetString();
}

public sealed class BootstrapAdminTestsSqlite(SqliteApp app) : BootstrapAdminTests(app), IClassFixture<SqliteApp>;

public sealed class BootstrapAdminTestsPostgres(PostgresApp app) : BootstrapAdminTests(app), IClassFixture<PostgresApp>;

[Collection("sqlite")]
public sealed class AccountTestsSqlite(SqliteApp app) : AccountTests(app);

[Collection("postgres")]
public sealed class AccountTestsPostgres(PostgresApp app) : AccountTests(app);
