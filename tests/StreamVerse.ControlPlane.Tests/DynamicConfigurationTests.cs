using System.Globalization;
using System.Text.RegularExpressions;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Origin.Limits;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// A daemon whose configuration also comes from a JSON file (<c>--config</c>, reloaded on change) and from etcd (the
/// test server <c>./setup.sh deps</c> starts, under a key prefix of this fixture's own), plus secret-bearing keys on the
/// command line for the admin view.
/// </summary>
public sealed class DynamicConfigApp : ControlPlaneApp, IAsyncLifetime
{
    public const string S3Secret = "s3-secret-Zq9VwXk2mN7p";
    public const string SmtpPassword = "smtp-password-Hf3Lr8Qe";
    public const string StripeKey = "sk_live_51HxTestNotRealKey0123456789";
    public const string WebhookSecret = "whsec_TestNotRealSecret987";
    public const string StreamKey = "publish-key-Yt6Bc1Dp0";

    public DynamicConfigApp()
    {
        ConfigFile = Path.Combine(Directory.CreateTempSubdirectory("sv-dyncfg-").FullName, "streamverse.json");
        File.WriteAllText(ConfigFile, """{ "StreamVerse": { "ControlPlane": { "Comments": { "MaxLength": 5000 } } } }""");
        Etcd = GrpcChannel.ForAddress(EtcdEndpoint);
        Kv = new KV.KVClient(Etcd);
    }

    public override string Provider => "sqlite";

    public string ConfigFile { get; }

    public string EtcdPrefix { get; } = "/streamverse-test/" + Guid.NewGuid().ToString("N") + "/";

    public static string EtcdEndpoint { get; } = ReadEtcdEndpoint();

    public GrpcChannel Etcd { get; }

    public KV.KVClient Kv { get; }

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--config", ConfigFile,
        "--StreamVerse:Config:Etcd:Endpoints", EtcdEndpoint,
        "--StreamVerse:Config:Etcd:Prefix", EtcdPrefix,
        "--StreamVerse:Storage:SecretAccessKey", S3Secret,
        "--StreamVerse:Storage:AccessKeyId", "AKIATESTNOTREAL0001",
        "--StreamVerse:ControlPlane:Mail:Password", SmtpPassword,
        "--StreamVerse:ControlPlane:Payments:StripeSecretKey", StripeKey,
        "--StreamVerse:ControlPlane:Payments:WebhookSigningSecret", WebhookSecret,
        "--stream", "cam=" + StreamKey,
    ];

    public async Task PutAsync(string key, string value) =>
        await Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(EtcdPrefix + key), Value = ByteString.CopyFromUtf8(value) });

    public async Task DeleteAsync(string key) =>
        await Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(EtcdPrefix + key) });

    /// <summary>streamverse_config_rejected_total as this process's /metrics shows it (the counter is process-wide).</summary>
    public async Task<double> RejectedAsync()
    {
        var text = await Http.GetStringAsync("metrics");
        var match = Regex.Match(text, @"^streamverse_config_rejected_total (\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    internal LimitsOptions Limits => Get<IOptionsMonitor<LimitsOptions>>().CurrentValue;

    /// <summary>Six requests in a row from this address: with a limit of one per second and a burst of one, some are refused.</summary>
    public async Task<bool> RateLimitedAsync()
    {
        var limited = false;
        for (var i = 0; i < 6; i++)
        {
            using var response = await Http.GetAsync("api/v1/categories");
            limited |= response.StatusCode == HttpStatusCode.TooManyRequests;
        }

        return limited;
    }

    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        // A bound for a hung test, not a timing assertion: a change applies in well under a second here.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "never happened: " + what);
            await Task.Delay(100);
        }
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(EtcdPrefix), RangeEnd = ByteString.CopyFromUtf8(EtcdPrefix[..^1] + "0") });
        Etcd.Dispose();
        Directory.Delete(Path.GetDirectoryName(ConfigFile)!, recursive: true);
    }

    private static string ReadEtcdEndpoint()
    {
        const string EnvFile = "/var/lib/streamverse-test/etcd.env";
        if (Environment.GetEnvironmentVariable("STREAMVERSE_TEST_ETCD") is { Length: > 0 } env)
        {
            return env;
        }

        foreach (var line in File.Exists(EnvFile) ? File.ReadAllLines(EnvFile) : [])
        {
            if (line.StartsWith("STREAMVERSE_TEST_ETCD=", StringComparison.Ordinal))
            {
                return line["STREAMVERSE_TEST_ETCD=".Length..].Trim('\'', '"');
            }
        }

        throw new InvalidOperationException($"No test etcd: set STREAMVERSE_TEST_ETCD or run ./setup.sh deps (starts it, writes {EnvFile}).");
    }
}

/// <summary>Limits, CORS and log levels change on a running daemon from the --config file and from etcd; a bad change is
/// refused whole and the previous values stay (issue 24, "Configuration").</summary>
public sealed class DynamicConfigurationTests(DynamicConfigApp app) : IClassFixture<DynamicConfigApp>
{
    private const string RateKey = "StreamVerse/Limits/RequestsPerSecondPerIp";
    private const string BurstKey = "StreamVerse/Limits/RequestBurstPerIp";

    private void WriteFile(string json)
    {
        // Replaced in one rename, as configuration management tools write a file.
        var temp = app.ConfigFile + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, app.ConfigFile, overwrite: true);
    }

    private void WriteLimitFile(int perSecond) => WriteFile(
        $$"""{ "StreamVerse": { "Limits": { "RequestsPerSecondPerIp": {{perSecond}}, "RequestBurstPerIp": 1 }, "ControlPlane": { "Comments": { "MaxLength": 5000 } } } }""");

    [Fact]
    public async Task A_limit_changed_in_the_file_applies_without_a_restart()
    {
        Assert.False(await app.RateLimitedAsync());
        WriteLimitFile(1);
        await DynamicConfigApp.EventuallyAsync(app.RateLimitedAsync, "the file's rate limit refuses requests");
        WriteLimitFile(0);
        await DynamicConfigApp.EventuallyAsync(async () => app.Limits.RequestsPerSecondPerIp == 0 && !await app.RateLimitedAsync(), "the limit lifted again");
    }

    [Fact]
    public async Task A_limit_changed_in_etcd_applies_without_a_restart()
    {
        Assert.False(await app.RateLimitedAsync());
        await app.PutAsync(BurstKey, "1");
        await app.PutAsync(RateKey, "1");
        await DynamicConfigApp.EventuallyAsync(app.RateLimitedAsync, "etcd's rate limit refuses requests");

        // A value etcd holds but the binder cannot convert: refused, the limit in force stays.
        var rejected = await app.RejectedAsync();
        await app.PutAsync(RateKey, "lots");
        await DynamicConfigApp.EventuallyAsync(async () => await app.RejectedAsync() > rejected, "the unconvertible value refused");
        Assert.Equal(1, app.Limits.RequestsPerSecondPerIp);
        Assert.True(await app.RateLimitedAsync());

        await app.DeleteAsync(RateKey);
        await app.DeleteAsync(BurstKey);
        await DynamicConfigApp.EventuallyAsync(async () => app.Limits.RequestsPerSecondPerIp == 0 && !await app.RateLimitedAsync(), "the limit lifted again");
    }

    [Fact]
    public async Task A_change_with_one_bad_value_is_refused_whole_and_the_previous_values_stay()
    {
        var rejected = await app.RejectedAsync();

        // A valid limit beside a tier that does not exist (LimitsOptions' own validation): neither may apply.
        WriteFile("""{ "StreamVerse": { "Limits": { "RequestsPerSecondPerIp": 1, "RequestBurstPerIp": 1, "DefaultTier": "nosuchtier" } } }""");
        await DynamicConfigApp.EventuallyAsync(async () => await app.RejectedAsync() > rejected, "the candidate refused");
        Assert.Equal(0, app.Limits.RequestsPerSecondPerIp);
        Assert.Equal("", app.Limits.DefaultTier);
        Assert.False(await app.RateLimitedAsync());

        // A file that does not parse is refused too (not read as "no keys", which would reset everything to defaults).
        WriteLimitFile(1000);
        await DynamicConfigApp.EventuallyAsync(() => Task.FromResult(app.Limits.RequestsPerSecondPerIp == 1000), "the valid file applied");
        rejected = await app.RejectedAsync();
        WriteFile("""{ "StreamVerse": { "Limits": { "RequestsPerSecondPerIp": """);
        await DynamicConfigApp.EventuallyAsync(async () => await app.RejectedAsync() > rejected, "the malformed file refused");
        Assert.Equal(1000, app.Limits.RequestsPerSecondPerIp);

        WriteLimitFile(0);
        await DynamicConfigApp.EventuallyAsync(() => Task.FromResult(app.Limits.RequestsPerSecondPerIp == 0), "the limit lifted again");
    }

    [Fact]
    public async Task Log_levels_change_at_runtime()
    {
        var logger = app.Get<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("StreamVerse.LevelProbe");
        Assert.False(logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug));
        await app.PutAsync("Logging/LogLevel/StreamVerse.LevelProbe", "Debug");
        await DynamicConfigApp.EventuallyAsync(() => Task.FromResult(logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug)), "Debug enabled");
        await app.DeleteAsync("Logging/LogLevel/StreamVerse.LevelProbe");
        await DynamicConfigApp.EventuallyAsync(() => Task.FromResult(!logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug)), "Debug off again");
    }

    [Fact]
    public async Task The_api_cors_origins_change_live()
    {
        async Task<bool> AllowedAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/categories");
            request.Headers.Add("Origin", origin);
            using var response = await app.Http.SendAsync(request);
            return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Contains(origin);
        }

        // The command line sets element 0 (flags win over the dynamic layer); etcd adds element 1, then takes it away.
        Assert.True(await AllowedAsync("https://app.test.invalid"));
        Assert.False(await AllowedAsync("https://new.test.invalid"));
        await app.PutAsync("StreamVerse/ControlPlane/CorsOrigins/1", "https://new.test.invalid");
        await DynamicConfigApp.EventuallyAsync(() => AllowedAsync("https://new.test.invalid"), "the new origin allowed");
        Assert.True(await AllowedAsync("https://app.test.invalid"));
        await app.DeleteAsync("StreamVerse/ControlPlane/CorsOrigins/1");
        await DynamicConfigApp.EventuallyAsync(async () => !await AllowedAsync("https://new.test.invalid"), "the new origin refused again");
    }

    [Fact]
    public async Task The_admin_view_shows_sources_and_restart_flags_and_never_a_secret()
    {
        var admin = await app.AdminAsync();

        // A key read only at start, changed in etcd: taken into the configuration, flagged as pending a restart.
        await app.PutAsync("StreamVerse/Limits/KeepAliveTimeoutSeconds", "80");
        JsonElement view = default;
        await DynamicConfigApp.EventuallyAsync(async () =>
        {
            view = await app.JsonAsync(HttpMethod.Get, "api/v1/admin/config", admin.AccessToken);
            return view.GetProperty("pendingRestart").EnumerateArray().Any(k => k.GetString() == "StreamVerse:Limits:KeepAliveTimeoutSeconds");
        }, "the restart-only key listed as pending");

        var text = view.GetRawText();
        foreach (var secret in new[] { DynamicConfigApp.S3Secret, DynamicConfigApp.SmtpPassword, DynamicConfigApp.StripeKey, DynamicConfigApp.WebhookSecret,
                     DynamicConfigApp.StreamKey, "smtp-test-password", "AKIATESTNOTREAL0001" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        var entries = view.GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("key").GetString()!, StringComparer.OrdinalIgnoreCase);
        foreach (var key in new[] { "StreamVerse:Storage:SecretAccessKey", "StreamVerse:Storage:AccessKeyId", "StreamVerse:ControlPlane:Mail:Password",
                     "StreamVerse:ControlPlane:Payments:StripeSecretKey", "StreamVerse:ControlPlane:Payments:WebhookSigningSecret", "StreamVerse:Streams:cam" })
        {
            Assert.True(entries[key].GetProperty("redacted").GetBoolean(), key);
            Assert.Equal("[redacted]", entries[key].GetProperty("value").GetString());
        }

        Assert.Equal("80", entries["StreamVerse:Limits:KeepAliveTimeoutSeconds"].GetProperty("value").GetString());
        Assert.Equal("etcd", entries["StreamVerse:Limits:KeepAliveTimeoutSeconds"].GetProperty("source").GetString());
        Assert.True(entries["StreamVerse:Limits:KeepAliveTimeoutSeconds"].GetProperty("restartRequired").GetBoolean());
        Assert.Equal("file", entries["StreamVerse:ControlPlane:Comments:MaxLength"].GetProperty("source").GetString());
        Assert.Equal("command line", entries["StreamVerse:Http"].GetProperty("source").GetString());
        Assert.True(entries["StreamVerse:Http"].GetProperty("restartRequired").GetBoolean());
        Assert.Equal("default", entries["StreamVerse:Limits:RequestHeadersTimeoutSeconds"].GetProperty("source").GetString());
        Assert.Equal("10", entries["StreamVerse:Limits:RequestHeadersTimeoutSeconds"].GetProperty("value").GetString());
        Assert.False(entries["StreamVerse:Limits:RequestsPerSecondPerIp"].GetProperty("restartRequired").GetBoolean());
        Assert.Equal("command line", entries["Logging:LogLevel:Default"].GetProperty("source").GetString());

        await app.DeleteAsync("StreamVerse/Limits/KeepAliveTimeoutSeconds");
    }
}
