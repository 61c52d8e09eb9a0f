namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// The peer broke the RTMP, AMF0 or FLV rules, or sent something this server does not take (e.g. a codec).
/// Thrown by the parsers; closes only the connection it came from. The message never contains
/// peer-supplied text that could be a stream key.
/// </summary>
internal sealed class RtmpProtocolException : Exception
{
    public const string ProtocolReason = "protocol";
    public const string UnsupportedCodecReason = "unsupported_codec";

    public RtmpProtocolException()
    {
    }

    public RtmpProtocolException(string message)
        : base(message)
    {
    }

    public RtmpProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The <c>reason</c> label of <c>streamverse_rtmp_rejected_total</c>.</summary>
    public string Reason { get; init; } = ProtocolReason;
}
