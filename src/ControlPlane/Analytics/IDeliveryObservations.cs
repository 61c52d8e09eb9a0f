namespace StreamVerse.ControlPlane.Analytics;

/// <summary>What a media response was: the object types CMCD names (CTA-5004 <c>ot</c>) that the origin serves.</summary>
internal enum DeliveredObject : byte
{
    Other = 0,
    Manifest = 1,
    InitSegment = 2,
    Segment = 3,
    Part = 4,
}

/// <summary>
/// One media response as the origin or an edge served it, reduced to the facts analytics keeps: no address, no user agent,
/// no token. <see cref="Viewer"/> is the CMCD session id's hash when the player sent one (<c>sid</c>), else a salted hash of
/// address and user agent whose salt rotates daily; <see cref="FromCmcd"/> says which. CMCD values the player did not send
/// are -1 (numbers) or false (flags). Times are unix milliseconds; rates kbit/s; buffer lengths ms.
/// </summary>
internal readonly record struct DeliveryObservation(
    string VideoId,
    bool Live,
    DeliveredObject Object,
    long AtUnixMs,
    long BytesSent,
    ulong Viewer,
    bool FromCmcd,
    int BufferLengthMs,
    bool BufferStarvation,
    int MeasuredThroughputKbps,
    int EncodedBitrateKbps,
    int TopBitrateKbps,
    bool Startup,
    string Tier);

/// <summary>
/// Where the media path hands its delivery observations to analytics. Called on the serving path: it must not block,
/// allocate per call beyond the caller's struct, or fail a response; when its buffer is full it drops the observation and
/// counts the drop.
/// </summary>
internal interface IDeliveryObservations
{
    void Record(in DeliveryObservation observation);
}
