using System.Numerics;

namespace StreamVerse.Origin.Rtmp.Chunks;

/// <summary>
/// What a peer may make an <see cref="RtmpChunkReader"/> hold. Message lengths are checked against the limit of
/// their type as soon as a header announces them; <see cref="MaxBufferedBytes"/> bounds the buffers of all chunk
/// streams together, which grow only as payload bytes arrive.
/// </summary>
/// <param name="MaxMediaMessageSize">Largest audio, video or aggregate message (a keyframe must fit).</param>
/// <param name="MaxOtherMessageSize">Largest command, data, control or other message.</param>
/// <param name="MaxBufferedBytes">Largest total of the chunk streams' buffers.</param>
internal readonly record struct RtmpChunkLimits(int MaxMediaMessageSize, int MaxOtherMessageSize, int MaxBufferedBytes)
{
    /// <summary>
    /// Commands, data and control messages of real publishers are a few hundred bytes to a few KB (connect,
    /// onMetaData); 64 KiB leaves room without letting one message cost much.
    /// </summary>
    public const int DefaultMaxOtherMessageSize = 64 * 1024;

    /// <summary>Before a publish starts the peer has proved nothing: every message is capped at 64 KiB.</summary>
    public const int UnauthenticatedMaxMessageSize = 64 * 1024;

    /// <summary>Before a publish starts: a few commands' worth of buffers across all chunk streams.</summary>
    public const int UnauthenticatedMaxBufferedBytes = 256 * 1024;

    public const int DefaultMaxBufferedBytes = 64 * 1024 * 1024;

    /// <summary>A connection that has not yet started a publish (handshake, connect, createStream, publish).</summary>
    public static RtmpChunkLimits Unauthenticated { get; } =
        new(UnauthenticatedMaxMessageSize, UnauthenticatedMaxMessageSize, UnauthenticatedMaxBufferedBytes);

    /// <summary>
    /// A publishing connection: media up to <paramref name="maxMediaMessageSize"/>, other messages up to 64 KiB, and
    /// buffers for two of the largest media messages (video and audio interleave; a pool rounds sizes up to a power of two).
    /// </summary>
    public static RtmpChunkLimits Publishing(int maxMediaMessageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMediaMessageSize);
        var twoLargest = 2L * BitOperations.RoundUpToPowerOf2((uint)maxMediaMessageSize);
        return new(maxMediaMessageSize, DefaultMaxOtherMessageSize, (int)Math.Clamp(twoLargest, DefaultMaxBufferedBytes, int.MaxValue));
    }

    /// <summary>Audio (8), video (9) and aggregate (22, a run of audio/video tags) messages carry media.</summary>
    public static bool IsMedia(byte typeId) => typeId is RtmpMessageType.Audio or RtmpMessageType.Video or RtmpMessageType.Aggregate;

    public int MaxMessageSize(byte typeId) => IsMedia(typeId) ? MaxMediaMessageSize : MaxOtherMessageSize;

    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive, or the buffers could not hold the largest message.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxMediaMessageSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxOtherMessageSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedBytes, Math.Max(MaxMediaMessageSize, MaxOtherMessageSize));
    }
}
