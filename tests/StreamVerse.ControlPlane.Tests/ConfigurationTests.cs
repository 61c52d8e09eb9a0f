using Microsoft.Extensions.Options;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Bad control-plane configuration stops the daemon with a message naming the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("StreamVerse:ControlPlane:Database:Provider", "mysql", "StreamVerse:ControlPlane:Database:Provider")]
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
    [InlineData("StreamVerse:ControlPlane:Uploads:CleanupInterval", "00:00:00.001", "StreamVerse:ControlPlane:Uploads:CleanupInterval")]
    [InlineData("StreamVerse:ControlPlane:Jobs:Concurrency", "0", "StreamVerse:ControlPlane:Jobs:Concurrency")]
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
    [InlineData("StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Height", "4", "StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0")]
    [InlineData("StreamVerse:Delivery:PublicMediaMaxAgeSeconds", "0", "PublicMediaMaxAgeSeconds")]
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

    [Theory]
    [InlineData("StreamVerse:Edge:InvalidationPollSeconds", "0", "InvalidationPollSeconds")]
    [InlineData("StreamVerse:Edge:InvalidationFeed", "ftp://origin/feed", "StreamVerse:Edge:InvalidationFeed")]
    [InlineData("StreamVerse:ControlPlane:Playback:SigningKey", "a passphrase long enough but not base64 0123456789", "StreamVerse:ControlPlane:Playback:SigningKey")]
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
