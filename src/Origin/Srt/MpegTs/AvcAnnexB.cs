using System.Buffers;
using System.Buffers.Binary;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Srt.MpegTs;

/// <summary>
/// Turns H.264 access units in Annex B form (ITU-T H.264 Annex B: start-code-delimited NAL units, as MPEG-TS carries
/// them) into what <see cref="IMediaSink"/> takes: an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) built
/// from the in-band SPS and PPS, sent again when they change, and samples of 4-byte length-prefixed NAL units. Parameter
/// sets, access unit delimiters and filler leave the samples (the configuration carries them, as in avc1 tracks); SEI
/// stays (captions). Samples before the first SPS+PPS are dropped and counted.
/// </summary>
internal sealed class AvcAnnexB(IMediaSink sink)
{
    private const int NalIdr = 5;
    private const int NalSps = 7;
    private const int NalPps = 8;
    private const int NalAud = 9;
    private const int NalFiller = 12;

    private byte[] _sps = [];
    private byte[] _pps = [];
    private bool _configSent;
    private readonly ArrayBufferWriter<byte> _sample = new(64 * 1024);

    public long Samples { get; private set; }

    /// <summary>Access units dropped before the first configuration.</summary>
    public long Dropped { get; private set; }

    public void OnAccessUnit(long dts, long pts, ReadOnlySpan<byte> annexB)
    {
        _sample.ResetWrittenCount();
        var keyframe = false;
        var configChanged = false;
        var rest = annexB;
        while (NextNal(ref rest, out var nal))
        {
            var type = nal[0] & 0x1F;
            switch (type)
            {
                case NalSps:
                    configChanged |= Keep(ref _sps, nal);
                    continue;
                case NalPps:
                    configChanged |= Keep(ref _pps, nal);
                    continue;
                case NalAud or NalFiller:
                    continue;
                case NalIdr:
                    keyframe = true;
                    break;
            }

            var span = _sample.GetSpan(4 + nal.Length);
            BinaryPrimitives.WriteInt32BigEndian(span, nal.Length);
            nal.CopyTo(span[4..]);
            _sample.Advance(4 + nal.Length);
        }

        if (configChanged && _sps.Length >= 4 && _pps.Length > 0)
        {
            sink.OnVideoConfig(Record(_sps, _pps));
            _configSent = true;
        }

        if (_sample.WrittenCount == 0)
        {
            return;
        }

        if (!_configSent)
        {
            Dropped++;
            return;
        }

        Samples++;
        sink.OnSample(TrackKind.Video, dts, pts, keyframe, _sample.WrittenSpan);
    }

    /// <summary>The next NAL unit after a 3- or 4-byte start code; trailing zero bytes belong to the next start code.</summary>
    internal static bool NextNal(ref ReadOnlySpan<byte> data, out ReadOnlySpan<byte> nal)
    {
        ReadOnlySpan<byte> startCode = [0, 0, 1];
        while (true)
        {
            var start = data.IndexOf(startCode);
            if (start < 0)
            {
                data = default;
                nal = default;
                return false;
            }

            data = data[(start + 3)..];
            var next = data.IndexOf(startCode);
            var body = next < 0 ? data : data[..next];
            data = next < 0 ? default : data[next..];
            body = body.TrimEnd((byte)0);
            if (!body.IsEmpty)
            {
                nal = body;
                return true;
            }
        }
    }

    private static bool Keep(ref byte[] kept, ReadOnlySpan<byte> nal)
    {
        if (kept.AsSpan().SequenceEqual(nal) || nal.Length > ushort.MaxValue)
        {
            return false;
        }

        kept = nal.ToArray();
        return true;
    }

    /// <summary>An AVCDecoderConfigurationRecord with one SPS and one PPS and 4-byte NAL lengths.</summary>
    internal static byte[] Record(ReadOnlySpan<byte> sps, ReadOnlySpan<byte> pps)
    {
        var record = new byte[11 + sps.Length + pps.Length];
        record[0] = 1; // configurationVersion
        record[1] = sps[1]; // AVCProfileIndication
        record[2] = sps[2]; // profile_compatibility
        record[3] = sps[3]; // AVCLevelIndication
        record[4] = 0xFF; // reserved + lengthSizeMinusOne = 3
        record[5] = 0xE1; // reserved + numOfSequenceParameterSets = 1
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(6), (ushort)sps.Length);
        sps.CopyTo(record.AsSpan(8));
        record[8 + sps.Length] = 1; // numOfPictureParameterSets
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(9 + sps.Length), (ushort)pps.Length);
        pps.CopyTo(record.AsSpan(11 + sps.Length));
        return record;
    }
}
