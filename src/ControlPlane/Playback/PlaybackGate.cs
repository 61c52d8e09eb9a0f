using System.Net;

namespace StreamVerse.ControlPlane.Playback;

/// <summary>
/// What the origin asks before serving <c>/live/{name}/...</c>: public streams (and names the control plane does not
/// know, such as <c>--stream</c> ones) need no token; private and premium videos need a valid playback token.
/// A token, when given, must be valid whatever the visibility, and not withdrawn (<see cref="PlaybackRevocations"/>:
/// its video was made private or premium, or its viewer lost access, after it was issued). A deleted video plays to
/// nobody, whatever its token (its recording may outlive it on disk). No database access.
/// </summary>
internal sealed class PlaybackGate(ProtectedVideos protectedVideos, PlaybackTokens tokens, PlaybackRevocations revocations, TimeProvider time)
{
    public bool Allows(string streamName, ReadOnlySpan<char> token, IPAddress? client)
    {
        if (protectedVideos.IsDeleted(streamName))
        {
            return false;
        }

        if (token.IsEmpty)
        {
            return !protectedVideos.IsProtected(streamName);
        }

        Span<byte> ip = stackalloc byte[16];
        var hasIp = client is not null && client.MapToIPv6().TryWriteBytes(ip, out _);
        Span<char> viewer = stackalloc char[PlaybackTokens.MaxViewerBytes];
        return tokens.Verify(token, streamName, time.GetUtcNow().ToUnixTimeSeconds(), hasIp ? ip : default, out var issued, viewer, out var viewerChars)
            && !revocations.Voids(streamName, viewer[..viewerChars], issued);
    }
}
