using StreamVerse.Origin.Srt;

namespace StreamVerse.Origin.Tests.Srt;

/// <summary>The SRT access-control stream id syntax (Haivision SRT docs/features/access-control.md) and a bare key.</summary>
public sealed class SrtStreamIdTests
{
    [Theory]
    [InlineData("#!::r=sk_abc,m=publish", "sk_abc", null, null)]
    [InlineData("#!::m=publish,r=live/sk_abc", "live/sk_abc", null, null)]
    [InlineData("#!::u=alice,r=sk_abc,s=1234,m=publish,t=stream,h=example.com", "sk_abc", "alice", "1234")]
    [InlineData("#!::r=sk_abc,m=publish,obs=30.1", "sk_abc", null, null)] // an application's own key is ignored
    [InlineData("sk_abc", "sk_abc", null, null)] // a bare key publishes
    public void Publishes_are_read(string text, string resource, string? user, string? session)
    {
        Assert.True(SrtStreamId.TryParse(text, out var id, out _));
        Assert.Equal(resource, id!.Resource);
        Assert.True(id.IsPublish);
        Assert.Equal(user, id.User);
        Assert.Equal(session, id.Session);
        Assert.DoesNotContain(resource, id.ToString(), StringComparison.Ordinal); // the key is secret
    }

    [Theory]
    [InlineData("#!::r=sk_abc", SrtRejectReasons.BadMode, "m=request")] // the spec's default mode is request (playback)
    [InlineData("#!::r=sk_abc,m=request", SrtRejectReasons.BadMode, "m=request")]
    [InlineData("#!::r=sk_abc,m=bidirectional", SrtRejectReasons.BadMode, "m=bidirectional")]
    [InlineData("#!::r=sk_abc,m=play", SrtRejectReasons.BadMode, "Unknown m=")]
    [InlineData("#!::m=publish", SrtRejectReasons.BadRequest, "no r=")]
    [InlineData("#!::r=,m=publish", SrtRejectReasons.BadRequest, "no r=")]
    [InlineData("#!::r=a,r=b,m=publish", SrtRejectReasons.BadRequest, "'r' twice")]
    [InlineData("#!::r=a,m=publish,m=publish", SrtRejectReasons.BadRequest, "'m' twice")]
    [InlineData("#!::r=a,publish", SrtRejectReasons.BadRequest, "key=value")]
    [InlineData("#!::=a,m=publish", SrtRejectReasons.BadRequest, "key=value")]
    [InlineData("#!::r=a,m=publish,t=file", SrtRejectReasons.NotSupportedMedia, "t=stream")]
    [InlineData("#!:{r=a,m=publish}", SrtRejectReasons.BadRequest, "syntax")]
    [InlineData("", SrtRejectReasons.BadRequest, "no stream key")]
    [InlineData("two words", SrtRejectReasons.BadRequest, "no stream key")]
    public void Refusals_carry_a_reason_and_an_srt_reject_code(string text, int reason, string message)
    {
        Assert.False(SrtStreamId.TryParse(text, out var id, out var error));
        Assert.Null(id);
        Assert.Equal(reason, error.Reason);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_id_longer_than_srt_allows_is_refused()
    {
        Assert.False(SrtStreamId.TryParse("#!::m=publish,r=" + new string('k', 600), out _, out var error));
        Assert.Equal(SrtRejectReasons.BadRequest, error.Reason);
    }
}
