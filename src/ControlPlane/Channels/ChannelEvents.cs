using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Channels;

/// <summary>A public broadcast of the channel started (or a broadcast already live was made public).</summary>
/// <param name="VideoId">The broadcast (its id is the live stream's name).</param>
internal sealed record ChannelWentLive(string ChannelId, string VideoId, string Title, DateTimeOffset StartedAt) : IDomainEvent
{
    public string SubjectId => ChannelId;
}
