using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Rtmp;

namespace StreamVerse.Origin.Tests.Rtmp;

/// <summary>Per-address backoff after refused stream keys (issue 21's quotas): a guesser is made to wait, a good key clears it.</summary>
public sealed class PublishBackoffTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch.AddDays(20_000);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class Fixed(RtmpOptions value) : IOptionsMonitor<RtmpOptions>
    {
        public RtmpOptions CurrentValue => value;

        public RtmpOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RtmpOptions, string?> listener) => null;
    }

    [Fact]
    public void Refusals_past_the_threshold_block_for_a_doubling_time_and_a_good_key_clears_it()
    {
        var time = new ManualTime();
        var backoff = new PublishBackoff(new Fixed(new RtmpOptions
        {
            FailedPublishesBeforeBackoff = 3, FailedPublishWindow = TimeSpan.FromMinutes(1), FirstPublishBackoff = TimeSpan.FromSeconds(2),
            MaxPublishBackoff = TimeSpan.FromSeconds(5),
        }), time);
        var guesser = IPAddress.Parse("192.0.2.7");
        var other = IPAddress.Parse("::ffff:192.0.2.8");
        backoff.Failed(guesser);
        backoff.Failed(guesser);
        Assert.False(backoff.IsBlocked(guesser, out _));
        backoff.Failed(guesser);
        Assert.True(backoff.IsBlocked(guesser, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(2), wait);
        Assert.True(backoff.IsBlocked(IPAddress.Parse("::ffff:192.0.2.7"), out _)); // the same address, IPv4-mapped
        Assert.False(backoff.IsBlocked(other, out _));

        time.Now += TimeSpan.FromSeconds(2);
        Assert.False(backoff.IsBlocked(guesser, out _));
        backoff.Failed(guesser); // still within the window: the wait doubles, up to the cap
        Assert.True(backoff.IsBlocked(guesser, out wait));
        Assert.Equal(TimeSpan.FromSeconds(4), wait);
        time.Now += TimeSpan.FromSeconds(4);
        backoff.Failed(guesser);
        Assert.True(backoff.IsBlocked(guesser, out wait));
        Assert.Equal(TimeSpan.FromSeconds(5), wait);

        backoff.Succeeded(guesser);
        Assert.False(backoff.IsBlocked(guesser, out _));

        // Refusals spread wider than the window never add up.
        for (var i = 0; i < 10; i++)
        {
            backoff.Failed(other);
            backoff.Failed(other);
            time.Now += TimeSpan.FromMinutes(2);
        }

        Assert.False(backoff.IsBlocked(other, out _));
    }

    [Fact]
    public async Task A_guessing_ffmpeg_is_closed_on_arrival_before_the_handshake()
    {
        await using var server = await RtmpTestServer.StartAsync(new()
        {
            ["StreamVerse:Rtmp:FailedPublishesBeforeBackoff"] = "2",
            ["StreamVerse:Rtmp:FirstPublishBackoff"] = "00:10:00",
            ["StreamVerse:Rtmp:MaxPublishBackoff"] = "00:10:00",
        });
        for (var i = 0; i < 2; i++)
        {
            var refused = await Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url("guess-" + i), 1), TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, refused.ExitCode);
        }

        // The next connection from this address is closed at once: the server answers nothing to C0+C1.
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = client.GetStream();
        var c0c1 = new byte[1537];
        c0c1[0] = 3;
        try
        {
            await stream.WriteAsync(c0c1);
        }
        catch (IOException)
        {
            // closed before the write landed: as good
        }

        var buffer = new byte[16];
        int read;
        try
        {
            read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (IOException)
        {
            read = 0; // reset
        }

        Assert.Equal(0, read);
        Assert.Contains(server.Logs.Lines, l => l.Contains("closed on arrival", StringComparison.Ordinal));
        Assert.Empty(server.Target.Published);
        Assert.True(server.Services.GetRequiredService<PublishBackoff>().IsBlocked(IPAddress.Loopback, out _));
    }
}
