using Microsoft.Extensions.Options;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Bad control-plane configuration stops the daemon with a message naming the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("StreamVerse:ControlPlane:Database:Provider", "mysql", "StreamVerse:ControlPlane:Database:Provider")]
    [InlineData("StreamVerse:Live:ReconnectWindowSeconds", "-1", "StreamVerse:Live:ReconnectWindowSeconds")]
    [InlineData("StreamVerse:Live:ReconnectWindowSeconds", "301", "StreamVerse:Live:ReconnectWindowSeconds")]
    [InlineData("StreamVerse:Web:Root", "/etc/passwd", "StreamVerse:Web:Root")]
    [InlineData("StreamVerse:ControlPlane:Database:Provider", "postgres", "StreamVerse:ControlPlane:Database:ConnectionString")]
    [InlineData("StreamVerse:ControlPlane:Jwt:SigningKey", "too-short", "StreamVerse:ControlPlane:Jwt:SigningKey")]
    [InlineData("StreamVerse:ControlPlane:Playback:SigningKey", "too-short", "StreamVerse:ControlPlane:Playback:SigningKey")]
    // Keys are the base64 of their bytes, as in the generated key files: a long passphrase is not one.
    [InlineData("StreamVerse:ControlPlane:Jwt:SigningKey", "a passphrase long enough but not base64 0123456789", "StreamVerse:ControlPlane:Jwt:SigningKey")]
    [InlineData("StreamVerse:ControlPlane:Playback:SigningKey", "a passphrase long enough but not base64 0123456789", "StreamVerse:ControlPlane:Playback:SigningKey")]
    [InlineData("StreamVerse:ControlPlane:Playback:SigningKey", "c2hvcnQ=", "StreamVerse:ControlPlane:Playback:SigningKey")]
    [InlineData("StreamVerse:ControlPlane:Argon2MemoryKiB", "1024", "Argon2MemoryKiB")]
    [InlineData("StreamVerse:ControlPlane:Argon2QueueLimit", "-1", "Argon2QueueLimit")]
    [InlineData("StreamVerse:ControlPlane:Argon2RegistrationQueueLimit", "-1", "Argon2RegistrationQueueLimit")]
    [InlineData("StreamVerse:ControlPlane:RegistrationsPerAddress", "-1", "RegistrationsPerAddress")]
    [InlineData("StreamVerse:ControlPlane:RegistrationWindow", "00:00:00", "StreamVerse:ControlPlane:RegistrationWindow")]
    [InlineData("StreamVerse:ControlPlane:BootstrapAdminEmail", "admin@localhost", "StreamVerse:ControlPlane:BootstrapAdminEmail")]
    [InlineData("StreamVerse:ControlPlane:Uploads:MaxSize", "0", "StreamVerse:ControlPlane:Uploads:MaxSize")]
    [InlineData("StreamVerse:ControlPlane:Uploads:MaxSinglePutBytes", "-1", "StreamVerse:ControlPlane:Uploads:MaxSinglePutBytes")]
    [InlineData("StreamVerse:ControlPlane:Uploads:Expiry", "00:00:00", "StreamVerse:ControlPlane:Uploads:Expiry")]
    [InlineData("StreamVerse:ControlPlane:Uploads:MaxConcurrentPerAccount", "-1", "StreamVerse:ControlPlane:Uploads:MaxConcurrentPerAccount")]
    [InlineData("StreamVerse:ControlPlane:Uploads:MaxBytesPerDay", "-1", "StreamVerse:ControlPlane:Uploads:MaxBytesPerDay")]
    [InlineData("StreamVerse:ControlPlane:Uploads:CleanupInterval", "00:00:00.001", "StreamVerse:ControlPlane:Uploads:CleanupInterval")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Concurrency", "0", "StreamVerse:ControlPlane:Jobs:Concurrency")]
    [InlineData("StreamVerse:ControlPlane:Comments:MaxLength", "0", "StreamVerse:ControlPlane:Comments:MaxLength")]
    [InlineData("StreamVerse:ControlPlane:Comments:MaxLength", "100001", "StreamVerse:ControlPlane:Comments:MaxLength")]
    [InlineData("StreamVerse:ControlPlane:Chat:MaxLength", "0", "StreamVerse:ControlPlane:Chat:MaxLength")]
    [InlineData("StreamVerse:ControlPlane:Chat:MaxLength", "2001", "StreamVerse:ControlPlane:Chat:MaxLength")]
    [InlineData("StreamVerse:ControlPlane:Chat:HistorySize", "201", "StreamVerse:ControlPlane:Chat:HistorySize")]
    [InlineData("StreamVerse:ControlPlane:Chat:AccountMessagesPerWindow", "0", "StreamVerse:ControlPlane:Chat:AccountMessagesPerWindow")]
    [InlineData("StreamVerse:ControlPlane:Chat:AddressMessagesPerWindow", "0", "StreamVerse:ControlPlane:Chat:AddressMessagesPerWindow")]
    [InlineData("StreamVerse:ControlPlane:Chat:RateWindow", "00:00:00.5", "StreamVerse:ControlPlane:Chat:RateWindow")]
    [InlineData("StreamVerse:ControlPlane:Chat:MaxBlockedWords", "1001", "StreamVerse:ControlPlane:Chat:MaxBlockedWords")]
    [InlineData("StreamVerse:ControlPlane:Realtime:MaximumReceiveMessageSize", "100", "StreamVerse:ControlPlane:Realtime:MaximumReceiveMessageSize")]
    [InlineData("StreamVerse:ControlPlane:Redis:Configuration", "127.0.0.1:6390,nosuchoption=1", "StreamVerse:ControlPlane:Redis:Configuration")]
    [InlineData("StreamVerse:ControlPlane:Redis:ChannelPrefix", " ", "StreamVerse:ControlPlane:Redis:ChannelPrefix")]
    [InlineData("StreamVerse:ControlPlane:Channels:MaxPerAccount", "-1", "StreamVerse:ControlPlane:Channels:MaxPerAccount")]
    [InlineData("StreamVerse:ControlPlane:Publishing:CheckInterval", "00:00:00", "StreamVerse:ControlPlane:Publishing:CheckInterval")]
    [InlineData("StreamVerse:ControlPlane:Images:MaxSourceWidth", "8", "StreamVerse:ControlPlane:Images:MaxSourceWidth")]
    [InlineData("StreamVerse:ControlPlane:Images:MaxSourceHeight", "100000", "StreamVerse:ControlPlane:Images:MaxSourceHeight")]
    [InlineData("StreamVerse:ControlPlane:Images:BannerMaxBytes", "10", "StreamVerse:ControlPlane:Images:BannerMaxBytes")]
    [InlineData("StreamVerse:ControlPlane:Images:ThumbnailMaxBytes", "10", "StreamVerse:ControlPlane:Images:ThumbnailMaxBytes")]
    [InlineData("StreamVerse:ControlPlane:Jobs:LeaseDuration", "00:00:01", "StreamVerse:ControlPlane:Jobs:LeaseDuration")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:Preset", "warp", "StreamVerse:ControlPlane:Jobs:Ladder:Preset")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:SegmentDuration", "00:01:00", "StreamVerse:ControlPlane:Jobs:Ladder:SegmentDuration")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:Nice", "20", "StreamVerse:ControlPlane:Jobs:Ladder:Nice")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:Nice", "-1", "StreamVerse:ControlPlane:Jobs:Ladder:Nice")]
    [InlineData("StreamVerse:ControlPlane:Playback:MaxTokenLifetime", "8.00:00:00", "StreamVerse:ControlPlane:Playback:MaxTokenLifetime")]
    [InlineData("StreamVerse:ControlPlane:Playback:MaxTokenLifetime", "00:00:30", "StreamVerse:ControlPlane:Playback:MaxTokenLifetime")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:MaxFrameRate", "0", "StreamVerse:ControlPlane:Jobs:Ladder:MaxFrameRate")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:MaxFrameRate", "241", "StreamVerse:ControlPlane:Jobs:Ladder:MaxFrameRate")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:MaxAudioTracks", "0", "StreamVerse:ControlPlane:Jobs:Ladder:MaxAudioTracks")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:MaxAudioTracks", "33", "StreamVerse:ControlPlane:Jobs:Ladder:MaxAudioTracks")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Height", "4", "StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0")]
    [InlineData("StreamVerse:ControlPlane:Outbox:BatchSize", "0", "StreamVerse:ControlPlane:Outbox:BatchSize")]
    [InlineData("StreamVerse:ControlPlane:Outbox:LeaseDuration", "00:00:00.5", "StreamVerse:ControlPlane:Outbox:LeaseDuration")]
    [InlineData("StreamVerse:ControlPlane:Outbox:PollInterval", "00:00:00.001", "StreamVerse:ControlPlane:Outbox:PollInterval")]
    [InlineData("StreamVerse:ControlPlane:Outbox:RetryBaseDelay", "00:00:00", "StreamVerse:ControlPlane:Outbox:RetryBaseDelay")]
    [InlineData("StreamVerse:ControlPlane:Outbox:MaxRetryDelay", "2.00:00:00", "StreamVerse:ControlPlane:Outbox:MaxRetryDelay")]
    [InlineData("StreamVerse:ControlPlane:Outbox:Retention", "00:01:00", "StreamVerse:ControlPlane:Outbox:Retention")]
    [InlineData("StreamVerse:ControlPlane:Notifications:FanoutBatchSize", "0", "StreamVerse:ControlPlane:Notifications:FanoutBatchSize")]
    [InlineData("StreamVerse:ControlPlane:Notifications:FanoutLease", "00:00:00.5", "StreamVerse:ControlPlane:Notifications:FanoutLease")]
    [InlineData("StreamVerse:ControlPlane:Notifications:PollInterval", "00:00:00.001", "StreamVerse:ControlPlane:Notifications:PollInterval")]
    [InlineData("StreamVerse:ControlPlane:Notifications:DigestPeriod", "00:00:00.5", "StreamVerse:ControlPlane:Notifications:DigestPeriod")]
    [InlineData("StreamVerse:ControlPlane:Notifications:VapidPrivateKey", "c2hvcnQ=", "StreamVerse:ControlPlane:Notifications:VapidPrivateKey")]
    [InlineData("StreamVerse:ControlPlane:Notifications:VapidSubject", "webmaster@example.com", "StreamVerse:ControlPlane:Notifications:VapidSubject")]
    [InlineData("StreamVerse:ControlPlane:Notifications:PushTtl", "29.00:00:00", "StreamVerse:ControlPlane:Notifications:PushTtl")]
    [InlineData("StreamVerse:ControlPlane:Notifications:PushMaxAttempts", "0", "StreamVerse:ControlPlane:Notifications:PushMaxAttempts")]
    [InlineData("StreamVerse:ControlPlane:Notifications:PushInsecureHosts:0", "bad host!", "StreamVerse:ControlPlane:Notifications:PushInsecureHosts")]
    [InlineData("StreamVerse:ControlPlane:Captions:MaxBytes", "100", "StreamVerse:ControlPlane:Captions:MaxBytes")]
    [InlineData("StreamVerse:ControlPlane:Captions:MaxPerVideo", "0", "StreamVerse:ControlPlane:Captions:MaxPerVideo")]
    [InlineData("StreamVerse:Delivery:PublicMediaMaxAgeSeconds", "0", "PublicMediaMaxAgeSeconds")]
    [InlineData("StreamVerse:ControlPlane:Mail:Port", "0", "StreamVerse:ControlPlane:Mail:Port")]
    [InlineData("StreamVerse:ControlPlane:Mail:MaxAttempts", "0", "StreamVerse:ControlPlane:Mail:MaxAttempts")]
    [InlineData("StreamVerse:ControlPlane:Mail:RetryBaseDelay", "02:00:00", "StreamVerse:ControlPlane:Mail:RetryBaseDelay")]
    [InlineData("StreamVerse:ControlPlane:Mail:PollInterval", "00:00:00", "StreamVerse:ControlPlane:Mail:PollInterval")]
    [InlineData("StreamVerse:ControlPlane:Mail:LeaseDuration", "00:00:01", "StreamVerse:ControlPlane:Mail:LeaseDuration")]
    [InlineData("StreamVerse:ControlPlane:Mail:VerificationTokenLifetime", "00:00:01", "StreamVerse:ControlPlane:Mail:VerificationTokenLifetime")]
    [InlineData("StreamVerse:ControlPlane:Mail:ResetTokenLifetime", "2.00:00:00", "StreamVerse:ControlPlane:Mail:ResetTokenLifetime")]
    [InlineData("StreamVerse:ControlPlane:Mail:MessagesPerEmail", "-1", "StreamVerse:ControlPlane:Mail:MessagesPerEmail")]
    [InlineData("StreamVerse:ControlPlane:Mail:RequestsPerAddress", "-1", "StreamVerse:ControlPlane:Mail:RequestsPerAddress")]
    [InlineData("StreamVerse:ControlPlane:Mail:ThrottleWindow", "00:00:00", "StreamVerse:ControlPlane:Mail:ThrottleWindow")]
    [InlineData("StreamVerse:ControlPlane:Mail:SigningKey", "too-short", "StreamVerse:ControlPlane:Mail:SigningKey")]
    [InlineData("StreamVerse:Rtmp:TrackWaitMilliseconds", "30001", "TrackWaitMilliseconds")]
    [InlineData("StreamVerse:Rtmp:TrackWaitMilliseconds", "-1", "TrackWaitMilliseconds")]
    [InlineData("StreamVerse:Live:Transcode:QueueBytes", "1000", "QueueBytes")]
    [InlineData("StreamVerse:Rtmp:FailedPublishesBeforeBackoff", "-1", "FailedPublishesBeforeBackoff")]
    [InlineData("StreamVerse:Rtmp:FailedPublishWindow", "00:00:00", "FailedPublishWindow")]
    [InlineData("StreamVerse:Rtmp:FirstPublishBackoff", "00:00:00", "FirstPublishBackoff")]
    [InlineData("StreamVerse:Rtmp:MaxPublishBackoff", "2.00:00:00", "MaxPublishBackoff")]
    [InlineData("StreamVerse:Streams:cam", "short-key", "StreamVerse:Streams:cam")]
    [InlineData("StreamVerse:Srt:Listen", "localhost:9000", "StreamVerse:Srt:Listen")]
    [InlineData("StreamVerse:Srt:Listen", "127.0.0.1:0", "StreamVerse:Srt:Listen")]
    [InlineData("StreamVerse:Srt:LatencyMilliseconds", "19", "StreamVerse:Srt:LatencyMilliseconds")]
    [InlineData("StreamVerse:Srt:LatencyMilliseconds", "8001", "StreamVerse:Srt:LatencyMilliseconds")]
    [InlineData("StreamVerse:Srt:Passphrase", "short", "StreamVerse:Srt:Passphrase")]
    [InlineData("StreamVerse:Srt:MaxPublishers", "0", "StreamVerse:Srt:MaxPublishers")]
    [InlineData("StreamVerse:Srt:IdleTimeout", "00:00:00.5", "StreamVerse:Srt:IdleTimeout")]
    [InlineData("StreamVerse:ControlPlane:Moderation:ReportsPerHour", "-1", "StreamVerse:ControlPlane:Moderation:ReportsPerHour")]
    [InlineData("StreamVerse:ControlPlane:Moderation:ClaimDuration", "00:00:01", "StreamVerse:ControlPlane:Moderation:ClaimDuration")]
    [InlineData("StreamVerse:ControlPlane:Moderation:AppealWindow", "400.00:00:00", "StreamVerse:ControlPlane:Moderation:AppealWindow")]
    [InlineData("StreamVerse:ControlPlane:Moderation:PurgeInterval", "00:00:00", "StreamVerse:ControlPlane:Moderation:PurgeInterval")]
    [InlineData("StreamVerse:ControlPlane:Moderation:LinkHoldAccountAge", "-00:00:01", "StreamVerse:ControlPlane:Moderation:LinkHoldAccountAge")]
    [InlineData("StreamVerse:ControlPlane:Moderation:MaxWords", "0", "StreamVerse:ControlPlane:Moderation:MaxWords")]
    [InlineData("StreamVerse:ControlPlane:Ads:MidRollInterval", "00:00:05", "StreamVerse:ControlPlane:Ads:MidRollInterval")]
    [InlineData("StreamVerse:ControlPlane:Ads:MidRollInterval", "2.00:00:00", "StreamVerse:ControlPlane:Ads:MidRollInterval")]
    [InlineData("StreamVerse:ControlPlane:Ads:SigningKey", "too-short", "StreamVerse:ControlPlane:Ads:SigningKey")]
    [InlineData("StreamVerse:Cluster:AdvertisedUrl", "ftp://10.0.0.5:8080", "StreamVerse:Cluster:AdvertisedUrl")]
    [InlineData("StreamVerse:Cluster:AdvertisedUrl", "http://10.0.0.5:8080/?x=1", "StreamVerse:Cluster:AdvertisedUrl")]
    [InlineData("StreamVerse:Cluster:LeaseSeconds", "1", "StreamVerse:Cluster:LeaseSeconds")]
    [InlineData("StreamVerse:Cluster:LookupCacheMilliseconds", "5001", "StreamVerse:Cluster:LookupCacheMilliseconds")]
    [InlineData("StreamVerse:Cluster:NodeId", "n0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789", "StreamVerse:Cluster:NodeId")]
    // The dynamic configuration's sources must be readable at start (a daemon told to take its limits from them does not
    // run without them).
    [InlineData("StreamVerse:Config:File", "/nonexistent/streamverse.json", "StreamVerse:Config:File")]
    [InlineData("StreamVerse:Config:Etcd:Endpoints", "http://127.0.0.1:1", "StreamVerse:Config:Etcd:Endpoints")]
    [InlineData("StreamVerse:LogFormat", "xml", "StreamVerse:LogFormat")]
    [InlineData("StreamVerse:ControlPlane:Payments:Currency", "USD", "StreamVerse:ControlPlane:Payments:Currency")]
    [InlineData("StreamVerse:ControlPlane:Payments:PremiumMonthlyAmount", "0", "StreamVerse:ControlPlane:Payments:PremiumMonthlyAmount")]
    [InlineData("StreamVerse:ControlPlane:Payments:PremiumYearlyAmount", "0", "StreamVerse:ControlPlane:Payments:PremiumYearlyAmount")]
    [InlineData("StreamVerse:ControlPlane:Payments:TipMin", "0", "StreamVerse:ControlPlane:Payments:TipMin")]
    [InlineData("StreamVerse:ControlPlane:Payments:TipMax", "99", "StreamVerse:ControlPlane:Payments:TipMax")]
    [InlineData("StreamVerse:ControlPlane:Payments:GracePeriod", "-00:00:01", "StreamVerse:ControlPlane:Payments:GracePeriod")]
    [InlineData("StreamVerse:ControlPlane:Payments:CreatorShareBasisPoints", "10001", "StreamVerse:ControlPlane:Payments:CreatorShareBasisPoints")]
    [InlineData("StreamVerse:ControlPlane:Payments:PremiumPoolBasisPoints", "-1", "StreamVerse:ControlPlane:Payments:PremiumPoolBasisPoints")]
    [InlineData("StreamVerse:ControlPlane:Payments:HoldPeriod", "-1.00:00:00", "StreamVerse:ControlPlane:Payments:HoldPeriod")]
    [InlineData("StreamVerse:ControlPlane:Payments:PayoutMinimum", "0", "StreamVerse:ControlPlane:Payments:PayoutMinimum")]
    [InlineData("StreamVerse:ControlPlane:Payments:PollInterval", "00:00:00.01", "StreamVerse:ControlPlane:Payments:PollInterval")]
    [InlineData("StreamVerse:ControlPlane:Payments:Stripe:ToleranceSeconds", "0", "StreamVerse:ControlPlane:Payments:Stripe:ToleranceSeconds")]
    [InlineData("StreamVerse:ControlPlane:Payments:Stripe:FeeBasisPoints", "10001", "StreamVerse:ControlPlane:Payments:Stripe:FeeBasisPoints")]
    [InlineData("StreamVerse:ControlPlane:Payments:Stripe:FeeFixed", "-1", "StreamVerse:ControlPlane:Payments:Stripe:FeeFixed")]
    [InlineData("StreamVerse:ControlPlane:Payments:Stripe:ApiBase", "ftp://api.stripe.test", "StreamVerse:ControlPlane:Payments:Stripe:ApiBase")]
    [InlineData("StreamVerse:ControlPlane:Payments:Stripe:SecretKey", "sk_test_without_webhook_secret", "StreamVerse:ControlPlane:Payments:Stripe:WebhookSecret")]
    [InlineData("StreamVerse:ControlPlane:Payments:Stripe:WebhookSecret", "whsec_without_key", "StreamVerse:ControlPlane:Payments:Stripe:SecretKey")]
    [InlineData("StreamVerse:Analytics:Store", "mysql", "StreamVerse:Analytics:Store")]
    [InlineData("StreamVerse:Analytics:ClickHouse:Url", "not a url", "StreamVerse:Analytics:ClickHouse:Url")]
    [InlineData("StreamVerse:Analytics:ClickHouse:Database", "a;b", "StreamVerse:Analytics:ClickHouse:Database")]
    [InlineData("StreamVerse:Analytics:BufferCapacity", "10", "StreamVerse:Analytics:BufferCapacity")]
    [InlineData("StreamVerse:Analytics:FlushInterval", "00:00:00", "StreamVerse:Analytics:FlushInterval")]
    [InlineData("StreamVerse:Analytics:BatchSize", "0", "StreamVerse:Analytics:BatchSize")]
    [InlineData("StreamVerse:Analytics:RetentionDays", "0", "StreamVerse:Analytics:RetentionDays")]
    [InlineData("StreamVerse:Analytics:ViewSeconds", "0", "StreamVerse:Analytics:ViewSeconds")]
    [InlineData("StreamVerse:Analytics:MaxStartsPerMinute", "0", "StreamVerse:Analytics:MaxStartsPerMinute")]
    [InlineData("StreamVerse:Analytics:MaxBeaconBytes", "10", "StreamVerse:Analytics:MaxBeaconBytes")]
    [InlineData("StreamVerse:Analytics:MaxEventsPerBeacon", "0", "StreamVerse:Analytics:MaxEventsPerBeacon")]
    public async Task Refused_at_start(string key, string value, string named)
    {
        var data = Directory.CreateTempSubdirectory("sv-cfg-").FullName;
        try
        {
            // Program.cs turns this exception, from Build or from start, into exit code 2 and the message.
            var e = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var app = OriginHost.Build(["--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--" + key, value]);
                await app.StartAsync();
            });
            Assert.Contains(named, string.Join(" ", e.Failures));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>With an SMTP host the sender and the links' base are required (the password is never echoed).</summary>
    [Theory]
    [InlineData("StreamVerse:ControlPlane:Mail:From", "", "StreamVerse:ControlPlane:Mail:From")]
    [InlineData("StreamVerse:ControlPlane:Mail:From", "not a mailbox", "StreamVerse:ControlPlane:Mail:From")]
    [InlineData("StreamVerse:ControlPlane:Mail:PublicBaseUrl", "", "StreamVerse:ControlPlane:Mail:PublicBaseUrl")]
    [InlineData("StreamVerse:ControlPlane:Mail:PublicBaseUrl", "ftp://video.test.invalid", "StreamVerse:ControlPlane:Mail:PublicBaseUrl")]
    [InlineData("StreamVerse:ControlPlane:Mail:PublicBaseUrl", "https://video.test.invalid/?x=1", "StreamVerse:ControlPlane:Mail:PublicBaseUrl")]
    [InlineData("StreamVerse:ControlPlane:Mail:Password", null, "StreamVerse:ControlPlane:Mail:Password")]
    public async Task Refused_at_start_with_mail(string key, string? value, string named)
    {
        var data = Directory.CreateTempSubdirectory("sv-cfg-").FullName;
        try
        {
            var args = new Dictionary<string, string?>
            {
                ["StreamVerse:ControlPlane:Mail:Host"] = "127.0.0.1",
                ["StreamVerse:ControlPlane:Mail:User"] = "u",
                ["StreamVerse:ControlPlane:Mail:Password"] = "a-secret-password",
                ["StreamVerse:ControlPlane:Mail:From"] = "no-reply@test.invalid",
                ["StreamVerse:ControlPlane:Mail:PublicBaseUrl"] = "https://video.test.invalid",
            };
            args[key] = value;
            var e = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var app = OriginHost.Build(["--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0",
                    .. args.Where(a => a.Value is not null).SelectMany(a => new[] { "--" + a.Key, a.Value! })]);
                await app.StartAsync();
            });
            Assert.Contains(named, string.Join(" ", e.Failures));
            Assert.DoesNotContain("a-secret-password", string.Join(" ", e.Failures), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("StreamVerse:Edge:InvalidationPollSeconds", "0", "InvalidationPollSeconds")]
    [InlineData("StreamVerse:Edge:InvalidationFeed", "ftp://origin/feed", "StreamVerse:Edge:InvalidationFeed")]
    [InlineData("StreamVerse:ControlPlane:Playback:SigningKey", "a passphrase long enough but not base64 0123456789", "StreamVerse:ControlPlane:Playback:SigningKey")]
    [InlineData("StreamVerse:Cluster:LeaseSeconds", "301", "StreamVerse:Cluster:LeaseSeconds")]
    [InlineData("StreamVerse:ControlPlane:Redis:Configuration", "127.0.0.1:6390,nosuchoption=1", "StreamVerse:ControlPlane:Redis:Configuration")]
    public async Task Refused_at_start_on_an_edge(string key, string value, string named)
    {
        var data = Directory.CreateTempSubdirectory("sv-cfg-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var app = OriginHost.Build(["--data", data, "--http", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--" + key, value]);
                await app.StartAsync();
            });
            Assert.Contains(named, string.Join(" ", e.Failures));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
