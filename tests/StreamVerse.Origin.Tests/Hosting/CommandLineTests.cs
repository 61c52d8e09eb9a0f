using StreamVerse.Origin.Hosting;

namespace StreamVerse.Origin.Tests.Hosting;

public sealed class CommandLineTests
{
    [Fact]
    public void Flags_map_to_configuration_keys()
    {
        var values = CommandLine.Parse(["--data", "/d", "--http", "127.0.0.1:1", "--rtmp=127.0.0.1:2", "--stream", "cam=k1", "--stream", "b=k=2", "--StreamVerse:Segmenter:WindowSegments", "5"]);
        Assert.Equal("/d", values["StreamVerse:Data"]);
        Assert.Equal("127.0.0.1:1", values["StreamVerse:Http"]);
        Assert.Equal("127.0.0.1:2", values["StreamVerse:Rtmp"]);
        Assert.Equal("k1", values["StreamVerse:Streams:cam"]);
        Assert.Equal("k=2", values["StreamVerse:Streams:b"]);
        Assert.Equal("5", values["StreamVerse:Segmenter:WindowSegments"]);
    }

    [Theory]
    [InlineData("--bogus", "1")]
    [InlineData("--stream", "nokey")]
    [InlineData("--stream", "=k")]
    [InlineData("positional", "x")]
    public void Bad_arguments_are_refused(string flag, string value) =>
        Assert.Throws<CommandLineException>(() => CommandLine.Parse([flag, value]));

    [Fact]
    public void A_flag_without_value_is_refused() =>
        Assert.Throws<CommandLineException>(() => CommandLine.Parse(["--data"]));

    [Theory]
    [InlineData("127.0.0.1:8080", 8080)]
    [InlineData("[::1]:1935", 1935)]
    [InlineData("localhost:9000", 9000)]
    public void Endpoints_parse(string value, int port) =>
        Assert.Equal(port, OriginOptions.ParseEndPoint(value, "k").Port);

    [Fact]
    public void A_bad_endpoint_names_its_key()
    {
        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => OriginOptions.ParseEndPoint("nope", "StreamVerse:Http"));
        Assert.Contains("StreamVerse:Http", e.Message);
    }
}
