using System.Net.Http.Headers;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// A daemon with the analytics writer flushing every 100 ms and a flood limit of 5 view starts per address and minute, on
/// DuckDB (over SQLite) or on ClickHouse (over PostgreSQL; the server <c>./setup.sh deps</c> starts, a fresh database per
/// fixture, dropped afterwards). The ClickHouse fixture fails without that server: CI must run it.
/// </summary>
public abstract class AnalyticsApp : ControlPlaneApp
{
    public const int MaxStartsPerMinute = 5;

    protected virtual IEnumerable<string> StoreArgs => [];

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:Analytics:FlushInterval", "00:00:00.1",
        "--StreamVerse:Analytics:MaxStartsPerMinute", MaxStartsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        .. StoreArgs,
    ];

    /// <summary>Posts one beacon as a player would (the test's user agent is a headless Chromium's: not a bot).</summary>
    public async Task<HttpResponseMessage> BeaconAsync(object beacon, string? token = null, string contentType = "application/json",
        string userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/beacons")
        {
            Content = new StringContent(JsonSerializer.Serialize(beacon), System.Text.Encoding.UTF8, contentType),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Http.SendAsync(request);
    }

    /// <summary>Polls the video's analytics until <paramref name="until"/> holds (the writer flushes every 100 ms); the last answer otherwise fails the test.</summary>
    public async Task<JsonElement> VideoAnalyticsAsync(string videoId, Persona owner, Func<JsonElement, bool> until, string query = "")
    {
        JsonElement last = default;
        for (var i = 0; i < 300; i++)
        {
            last = await JsonAsync(HttpMethod.Get, $"api/v1/videos/{videoId}/analytics{query}", owner.AccessToken);
            if (until(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        Assert.Fail("analytics never reached the expected state: " + last);
        return last;
    }
}

public sealed class AnalyticsDuckDbApp : AnalyticsApp
{
    public override string Provider => "sqlite";
}

public sealed class AnalyticsClickHouseApp : AnalyticsApp, IAsyncLifetime
{
    public const string EnvFile = "/var/lib/streamverse-test/clickhouse.env";

    private readonly string _database = "t_" + Guid.NewGuid().ToString("N")[..16];

    public override string Provider => "postgres";

    public static string Url { get; } = Find();

    protected override IEnumerable<string> StoreArgs =>
    [
        "--StreamVerse:Analytics:Store", "clickhouse",
        "--StreamVerse:Analytics:ClickHouse:Url", Url,
        "--StreamVerse:Analytics:ClickHouse:Database", _database,
    ];

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        using var http = new HttpClient();
        using var _ = await http.PostAsync(Url, new StringContent("DROP DATABASE IF EXISTS " + _database));
    }

    private static string Find()
    {
        if (!File.Exists(EnvFile))
        {
            throw new InvalidOperationException($"{EnvFile} is missing: run ./setup.sh deps (it starts ClickHouse for the analytics tests)");
        }

        var line = File.ReadAllLines(EnvFile).First(l => l.StartsWith("STREAMVERSE_TEST_CLICKHOUSE=", StringComparison.Ordinal));
        return line["STREAMVERSE_TEST_CLICKHOUSE=".Length..].Trim('\'', '"');
    }
}

[CollectionDefinition("analytics-duckdb")]
public sealed class AnalyticsDuckDbCollection : ICollectionFixture<AnalyticsDuckDbApp>;

[CollectionDefinition("analytics-clickhouse")]
public sealed class AnalyticsClickHouseCollection : ICollectionFixture<AnalyticsClickHouseApp>;
