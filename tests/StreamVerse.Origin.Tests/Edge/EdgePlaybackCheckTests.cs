using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.Origin.Edge;

namespace StreamVerse.Origin.Tests.Edge;

public sealed class EdgePlaybackCheckTests
{
    /// <summary>Written as the origin's key file is: base64 of the key's bytes.</summary>
    private static readonly string Key = Convert.ToBase64String("edge-and-origin-share-this-playback-key-0123456789"u8);
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static EdgePlaybackCheck Check(string? key) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["StreamVerse:ControlPlane:Playback:SigningKey"] = key }).Build(),
        new FixedTime(Now));

    private static string Issue(string video, TimeSpan validFor, IPAddress? ip = null) =>
        new PlaybackTokens(Convert.FromBase64String(Key)).Issue(video, Now + validFor, viewerId: null, ip);

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

    [Fact]
    public void The_content_of_the_origins_key_file_verifies_its_tokens_and_another_key_refuses_them()
    {
        // The origin's key as it makes it when none is configured, and its tokens.
        var data = Directory.CreateTempSubdirectory("sv-key-");
        try
        {
            var file = Path.Combine(data.FullName, "keys", "playback.key");
            var origin = new PlaybackTokens(KeyMaterial.LoadOrCreate(null, "StreamVerse:ControlPlane:Playback:SigningKey", file));
            var token = origin.Issue("vid1", Now + TimeSpan.FromMinutes(5), viewerId: null, clientIp: null);

            // Copied into the edge's configuration as it is (a trailing newline included).
            Assert.True(Check(File.ReadAllText(file) + "\n").Admits($"/vod/t/{token}/vid1/index.m3u8", null));
            Assert.False(Check(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).Admits($"/vod/t/{token}/vid1/index.m3u8", null));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("edge-and-origin-share-this-playback-key-0123456789")]
    [InlineData("c2hvcnQ=")]
    public void A_key_that_is_not_the_base64_of_32_bytes_is_refused_naming_the_key(string key)
    {
        var e = Assert.Throws<OptionsValidationException>(() => Check(key));
        Assert.Contains("StreamVerse:ControlPlane:Playback:SigningKey", string.Join(" ", e.Failures), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/vod/T/{0}/vid1/index.m3u8")]
    [InlineData("/VOD/t/{0}/vid1/index.m3u8")]
    [InlineData("/live/T/{0}/vid1/index.m3u8")]
    [InlineData("/vod/t/{0}/vid1//index.m3u8")]
    [InlineData("/vod/t/{0}/vid1/v1/../index.m3u8")]
    [InlineData("/vod/t/{0}/vid1/index.m3u8/")]
    public void Another_spelling_of_a_tokenised_path_is_refused_not_left_to_the_origin(string format)
    {
        var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, Issue("vid1", TimeSpan.FromMinutes(5)));
        Assert.False(Check(Key).Admits(path, null));
        Assert.False(Check(null).Admits(path, null));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
