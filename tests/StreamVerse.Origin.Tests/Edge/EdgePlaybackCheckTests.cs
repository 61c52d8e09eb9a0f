using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.Origin.Edge;

namespace StreamVerse.Origin.Tests.Edge;

public sealed class EdgePlaybackCheckTests
{
    private const string Key = "edge-and-origin-share-this-playback-key-0123456789";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static EdgePlaybackCheck Check(string? key) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["StreamVerse:ControlPlane:Playback:SigningKey"] = key }).Build(),
        new FixedTime(Now));

    private static string Issue(string video, TimeSpan validFor, IPAddress? ip = null) =>
        new PlaybackTokens(Encoding.UTF8.GetBytes(Key)).Issue(video, Now + validFor, viewerId: null, ip);

    [Fact]
    public void A_token_issued_by_the_origin_admits_its_video_only_until_it_expires()
    {
        var edge = Check(Key);
        var token = Issue("vid1", TimeSpan.FromMinutes(5));
        Assert.True(edge.Admits($"/live/t/{token}/vid1/index.m3u8", null));
        Assert.True(edge.Admits($"/live/t/{token}/vid1/abc/video_3.m4s", null));
        Assert.False(edge.Admits($"/live/t/{token}/vid2/index.m3u8", null));
        Assert.False(edge.Admits($"/live/t/{Issue("vid1", TimeSpan.FromSeconds(-1))}/vid1/index.m3u8", null));
        var tampered = string.Concat(token.AsSpan(0, 20), token[20] == 'A' ? "B" : "A", token.AsSpan(21));
        Assert.False(edge.Admits($"/live/t/{tampered}/vid1/index.m3u8", null));
        Assert.False(edge.Admits("/live/t/vid1/index.m3u8", null));
    }

    [Fact]
    public void Vod_paths_take_the_same_tokens_for_the_same_video()
    {
        var edge = Check(Key);
        var token = Issue("vid1", TimeSpan.FromMinutes(5));
        Assert.True(edge.Admits($"/vod/t/{token}/vid1/index.mpd", null));
        Assert.True(edge.Admits($"/vod/t/{token}/vid1/v2/360p_1.m4s", null));
        Assert.False(edge.Admits($"/vod/t/{token}/vid2/v2/360p_1.m4s", null));
        Assert.False(edge.Admits($"/vod/t/{Issue("vid1", TimeSpan.FromSeconds(-1))}/vid1/index.m3u8", null));
        Assert.Null(edge.Admits("/vod/vid1/index.m3u8", null));
    }

    [Fact]
    public void An_ip_bound_token_admits_that_client_only()
    {
        var edge = Check(Key);
        var token = Issue("vid1", TimeSpan.FromMinutes(5), IPAddress.Parse("192.0.2.7"));
        Assert.True(edge.Admits($"/live/t/{token}/vid1/index.m3u8", IPAddress.Parse("192.0.2.7")));
        Assert.False(edge.Admits($"/live/t/{token}/vid1/index.m3u8", IPAddress.Parse("192.0.2.8")));
    }

    [Fact]
    public void Untokenised_paths_are_left_to_the_origin_and_an_edge_without_the_key_refuses_tokens()
    {
        Assert.Null(Check(Key).Admits("/live/cam/index.m3u8", null));
        Assert.False(Check(null).Admits($"/live/t/{Issue("vid1", TimeSpan.FromMinutes(5))}/vid1/index.m3u8", null));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
