using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>What viewers see of the catalogue, and what creators may write into it (issue 16).</summary>
public abstract class CatalogueTests(ControlPlaneApp app)
{
    [Fact]
    public async Task Public_lists_show_only_what_a_viewer_can_play_and_the_owner_sees_every_state()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var state in new[] { "draft", "processing", "failed", "ready", "preview", "live", "ended" })
        {
            ids[state] = (await app.NewVideoAsync(creator, channel, "public", state)).GetProperty("id").GetString()!;
        }

        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await Set(db, ids["processing"], "processing", vodPrefix: null, failure: null);
            await Set(db, ids["failed"], "failed", vodPrefix: null, failure: "the source has no video stream");
            await Set(db, ids["ready"], "ready", vodPrefix: $"vod/{ids["ready"]}/v1", failure: null);
            await Set(db, ids["preview"], "processing", vodPrefix: $"vod/{ids["preview"]}/p1", failure: null);
            await Set(db, ids["live"], "live", vodPrefix: null, failure: null);
            await Set(db, ids["ended"], "ended", vodPrefix: null, failure: null);
        }

        var playable = new[] { "ready", "preview", "live", "ended" };
        foreach (var viewer in new[] { null, (await app.NewUserAsync()).AccessToken })
        {
            var page = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}&limit=100", viewer);
            var seen = page.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(playable.Select(s => ids[s]).Order(), seen.Select(v => v.GetProperty("id").GetString()!).Order());
            Assert.All(seen, v => Assert.Equal(JsonValueKind.Null, v.GetProperty("failureReason").ValueKind));

            var everyone = await app.JsonAsync(HttpMethod.Get, "api/v1/videos?limit=100", viewer);
            Assert.DoesNotContain(everyone.GetProperty("items").EnumerateArray(), v => v.GetProperty("title").GetString() is "draft" or "processing" or "failed"
                && v.GetProperty("channelId").GetString() == channel);

            foreach (var (state, id) in ids)
            {
                await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", viewer, expect: playable.Contains(state) ? HttpStatusCode.OK : HttpStatusCode.NotFound);
            }
        }

        var own = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}&limit=100", creator.AccessToken);
        Assert.Equal(ids.Values.Order(), own.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("id").GetString()!).Order());
        var failed = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{ids["failed"]}", creator.AccessToken);
        Assert.Equal("the source has no video stream", failed.GetProperty("failureReason").GetString());

        static Task Set(DbSession db, string id, string status, string? vodPrefix, string? failure) => db.ExecAsync(
            "UPDATE videos SET status = @s, vod_prefix = @p, failure_reason = @f WHERE id = @id",
            [("s", status), ("p", vodPrefix), ("f", failure), ("id", id)], default);
    }

    [Fact]
    public async Task Creators_cannot_write_status_duration_or_thumbnail()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var fake = await app.JsonAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken,
            new { channelId = channel, title = "fake", visibility = "public", status = "ready", durationSeconds = 5400 }, HttpStatusCode.BadRequest);
        var errors = fake.GetProperty("errors");
        Assert.Equal("is set by the server and cannot be written", errors.GetProperty("status")[0].GetString());
        var page = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}", creator.AccessToken);
        Assert.Empty(page.GetProperty("items").EnumerateArray());

        var id = (await app.NewVideoAsync(creator, channel, "public", "real")).GetProperty("id").GetString()!;
        foreach (var body in new object[] { new { durationSeconds = 1.0 }, new { thumbnailUrl = "https://evil.test.invalid/t.jpg" }, new { status = "ready" } })
        {
            await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{id}", creator.AccessToken, body, HttpStatusCode.BadRequest);
        }

        var video = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", creator.AccessToken);
        Assert.Equal("draft", video.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, video.GetProperty("durationSeconds").ValueKind);
        Assert.Equal(JsonValueKind.Null, video.GetProperty("thumbnailUrl").ValueKind);
    }

    /// <summary>
    /// Every JSON write endpoint in the OpenAPI document, and every property its success answer carries that its request
    /// does not: sending that property alone is a 400 that names it as the server's.
    /// </summary>
    [Fact]
    public async Task Every_write_endpoint_refuses_every_server_owned_field_by_name()
    {
        var admin = await app.AdminAsync();
        var doc = await app.JsonAsync(HttpMethod.Get, "openapi/v1.json");
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        var tried = new List<string>();
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "post" or "put" or "patch"))
            {
                if (!operation.Value.TryGetProperty("requestBody", out var body)
                    || !body.GetProperty("content").TryGetProperty("application/json", out var json))
                {
                    continue;
                }

                var accepted = Properties(json.GetProperty("schema"), schemas);
                var answered = new HashSet<string>(StringComparer.Ordinal);
                foreach (var response in operation.Value.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')))
                {
                    if (response.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/json", out var r))
                    {
                        answered.UnionWith(Properties(r.GetProperty("schema"), schemas));
                    }
                }

                var url = string.Join('/', path.Name.TrimStart('/').Split('/').Select(s => s.StartsWith('{') ? "987654321" : s));
                foreach (var field in answered.Except(accepted).Append("noSuchField"))
                {
                    using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url)
                    {
                        Content = new StringContent($$"""{"{{field}}":"x"}""", System.Text.Encoding.UTF8, "application/json"),
                    };
                    request.Headers.Authorization = new("Bearer", admin.AccessToken);
                    using var answer = await app.Http.SendAsync(request);
                    var text = await answer.Content.ReadAsStringAsync();
                    var where = $"{operation.Name} {path.Name} with {field}: {(int)answer.StatusCode} {text}";
                    Assert.True(answer.StatusCode == HttpStatusCode.BadRequest && text.Length > 0, where);
                    var message = JsonDocument.Parse(text).RootElement.GetProperty("errors").GetProperty(field)[0].GetString();
                    Assert.True(message == (field == "noSuchField" ? "is not a field of this request" : "is set by the server and cannot be written"), where);
                    tried.Add($"{operation.Name} {path.Name} {field}");
                }
            }
        }

        // The document really was walked: the fields of the review's finding are among those tried.
        Assert.Contains("post /api/v1/videos status", tried);
        Assert.Contains("patch /api/v1/videos/{id} durationSeconds", tried);
        Assert.Contains("patch /api/v1/videos/{id} thumbnailUrl", tried);
        Assert.Contains("post /api/v1/channels ownerId", tried);

        static HashSet<string> Properties(JsonElement schema, JsonElement schemas)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            Collect(schema);
            return names;

            void Collect(JsonElement s)
            {
                if (s.TryGetProperty("$ref", out var r))
                {
                    Collect(schemas.GetProperty(r.GetString()!["#/components/schemas/".Length..]));
                    return;
                }

                foreach (var combinator in new[] { "allOf", "anyOf", "oneOf" })
                {
                    if (s.TryGetProperty(combinator, out var list))
                    {
                        foreach (var item in list.EnumerateArray())
                        {
                            Collect(item);
                        }
                    }
                }

                if (s.TryGetProperty("properties", out var properties))
                {
                    names.UnionWith(properties.EnumerateObject().Select(p => p.Name));
                }
            }
        }
    }

    [Fact]
    public async Task Unreadable_bodies_and_parameters_are_refused_naming_the_field()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var id = (await app.NewVideoAsync(creator, channel, "public")).GetProperty("id").GetString()!;
        foreach (var (body, field, message) in new[]
        {
            ("""{"title": 5}""", "title", "has the wrong type"),
            ("""{"tags": "one"}""", "tags", "has the wrong type"),
            ("""{"title": "x",""", "body", "is not valid JSON for this request"),
            ("""not json""", "body", "is not valid JSON for this request"),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"api/v1/videos/{id}") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new("Bearer", creator.AccessToken);
            using var answer = await app.Http.SendAsync(request);
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out var m) && m[0].GetString() == message, text);
        }

        var bad = await app.JsonAsync(HttpMethod.Get, "api/v1/videos?limit=abc", expect: HttpStatusCode.BadRequest);
        Assert.Equal("has the wrong type", bad.GetProperty("errors").GetProperty("limit")[0].GetString());
    }

    [Fact]
    public async Task Unknown_query_parameters_are_refused_not_ignored()
    {
        foreach (var (url, name) in new[] { ("api/v1/videos?q=cats", "q"), ("api/v1/videos?status=failed&limit=5", "status"), ("api/v1/tags?prefix=a&sort=x", "sort"), ("api/v1/channels?ownr=x", "ownr") })
        {
            var bad = await app.JsonAsync(HttpMethod.Get, url, expect: HttpStatusCode.BadRequest);
            Assert.Equal("is not a parameter of this endpoint", bad.GetProperty("errors").GetProperty(name)[0].GetString());
        }

        await app.JsonAsync(HttpMethod.Get, "api/v1/videos?sort=views&limit=5&TAG=x");
        await app.JsonAsync(HttpMethod.Get, "api/v1/tags?prefix=a&limit=3");
    }

    [Fact]
    public async Task A_refused_role_says_which_role_is_needed()
    {
        var user = await app.NewUserAsync();
        var admin = await app.JsonAsync(HttpMethod.Post, "api/v1/categories", user.AccessToken, new { name = "x" }, HttpStatusCode.Forbidden);
        Assert.Contains("admin role", admin.GetProperty("detail").GetString()!, StringComparison.Ordinal);
    }
}

[Collection("sqlite")]
public sealed class CatalogueTestsSqlite(SqliteApp app) : CatalogueTests(app);

[Collection("postgres")]
public sealed class CatalogueTestsPostgres(PostgresApp app) : CatalogueTests(app);
