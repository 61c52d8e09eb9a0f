using System.Buffers;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Srt.MpegTs;

/// <summary>An MPEG-TS stream the ingest cannot take (an unsupported codec); ends the publish.</summary>
internal sealed class TsUnsupportedException : Exception
{
    public TsUnsupportedException()
        : base("Unsupported MPEG-TS content.")
    {
    }

    public TsUnsupportedException(string message)
        : base(message)
    {
    }

    public TsUnsupportedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Demultiplexes an MPEG transport stream (ISO/IEC 13818-1) as an SRT publisher sends it: 188-byte packets in
/// arbitrary pieces, resynchronised on the 0x47 sync byte; the PAT names the first program's PMT; the PMT names one
/// H.264 (stream_type 0x1B) and one AAC ADTS (0x0F) elementary stream; their PES packets are reassembled and handed,
/// with 33-bit PTS/DTS unwrapped onto one continuous 90 kHz clock, to <see cref="AvcAnnexB"/> and <see cref="Adts"/>,
/// which feed the <see cref="IMediaSink"/> the same way the RTMP ingest does. Socket-free and synchronous: one instance
/// per publish, on one thread.
/// Robustness: every length is checked against its packet; a PES is capped at <see cref="MaxPesBytes"/>; a continuity
/// counter gap (§2.4.3.3) is counted in <see cref="ContinuityErrors"/> and drops the PES it broke (a decoder would
/// see garbage); PSI sections that do not fit in one packet are ignored (encoders write PAT/PMT in one).
/// HEVC (0x24) and other video types are refused with <see cref="TsUnsupportedException"/>: the segmenter packages
/// H.264 only.
/// </summary>
internal sealed class TsDemuxer : IDisposable
{
    public const int PacketSize = 188;
    public const int MaxPesBytes = 8 * 1024 * 1024;
    private const byte SyncByte = 0x47;
    private const long Wrap = 1L << 33;

    public const byte StreamTypeH264 = 0x1B;
    public const byte StreamTypeHevc = 0x24;
    public const byte StreamTypeAacAdts = 0x0F;

    private readonly byte[] _carry = new byte[PacketSize];
    private int _carryLength;
    private readonly AvcAnnexB _video;
    private readonly Adts _audio;

    private int _pmtPid = -1;
    private int _videoPid = -1;
    private int _audioPid = -1;
    private Pes _videoPes;
    private Pes _audioPes;

    private long _clock = long.MinValue;

    public TsDemuxer(IMediaSink sink)
    {
        _video = new AvcAnnexB(sink);
        _audio = new Adts(sink);
        _videoPes = new Pes();
        _audioPes = new Pes();
    }

    /// <summary>The PMT was read: which tracks the program has (what a publish waits for).</summary>
    public bool HasProgram { get; private set; }

    public bool HasVideo => _videoPid >= 0;

    public bool HasAudio => _audioPid >= 0;

    public long Packets { get; private set; }

    /// <summary>Continuity counter gaps on the program's PIDs (lost packets).</summary>
    public long ContinuityErrors { get; private set; }

    /// <summary>Bytes skipped to find the sync byte again.</summary>
    public long SkippedBytes { get; private set; }

    public long VideoSamples => _video.Samples;

    public long AudioSamples => _audio.Samples;

    /// <summary>Takes the next bytes of the stream, in any split.</summary>
    /// <exception cref="TsUnsupportedException">The program carries video the ingest cannot package.</exception>
    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_carryLength > 0)
        {
            var take = Math.Min(PacketSize - _carryLength, data.Length);
            data[..take].CopyTo(_carry.AsSpan(_carryLength));
            _carryLength += take;
            data = data[take..];
            if (_carryLength < PacketSize)
            {
                return;
            }

            _carryLength = 0;
            Packet(_carry);
        }

        while (data.Length > 0)
        {
            if (data[0] != SyncByte)
            {
                var sync = data.IndexOf(SyncByte);
                var skip = sync < 0 ? data.Length : sync;
                SkippedBytes += skip;
                data = data[skip..];
                continue;
            }

            if (data.Length < PacketSize)
            {
                data.CopyTo(_carry);
                _carryLength = data.Length;
                return;
            }

            Packet(data[..PacketSize]);
            data = data[PacketSize..];
        }
    }

    /// <summary>The stream ended: the last PES of each track is complete as far as it goes.</summary>
    public void Flush()
    {
        Emit(ref _videoPes, video: true);
        Emit(ref _audioPes, video: false);
    }

    private void Packet(ReadOnlySpan<byte> p)
    {
        Packets++;
        var unitStart = (p[1] & 0x40) != 0;
        var pid = ((p[1] & 0x1F) << 8) | p[2];
        var adaptation = (p[3] >> 4) & 3;
        var counter = p[3] & 0x0F;
        if ((p[1] & 0x80) != 0 || adaptation == 0)
        {
            return; // transport_error_indicator, or reserved adaptation_field_control
        }

        var offset = 4;
        var discontinuity = false;
        if (adaptation >= 2)
        {
            var length = p[4];
            if (5 + length > PacketSize)
            {
                return;
            }

            discontinuity = length > 0 && (p[5] & 0x80) != 0;
            offset = 5 + length;
        }

        if ((adaptation & 1) == 0 || offset >= PacketSize)
        {
            return; // no payload (and the counter does not advance, §2.4.3.3)
        }

        var payload = p[offset..];
        if (pid == 0)
        {
            if (unitStart)
            {
                ReadPat(payload);
            }
        }
        else if (pid == _pmtPid)
        {
            if (unitStart)
            {
                ReadPmt(payload);
            }
        }
        else if (pid == _videoPid)
        {
            PesPayload(ref _videoPes, payload, unitStart, counter, discontinuity, video: true);
        }
        else if (pid == _audioPid)
        {
            PesPayload(ref _audioPes, payload, unitStart, counter, discontinuity, video: false);
        }
    }

    /// <summary>A section at <c>pointer_field</c>; null when it does not fit or is not <paramref name="tableId"/>.</summary>
    private static ReadOnlySpan<byte> Section(ReadOnlySpan<byte> payload, byte tableId)
    {
        var pointer = payload[0];
        if (1 + pointer + 3 > payload.Length)
        {
            return default;
        }

        var section = payload[(1 + pointer)..];
        var length = ((section[1] & 0x0F) << 8) | section[2];
        if (section[0] != tableId || 3 + length > section.Length || length < 9)
        {
            return default;
        }

        // Without the CRC_32 (not checked: SRT delivers payloads intact or not at all).
        return section[..(3 + length - 4)];
    }

    private void ReadPat(ReadOnlySpan<byte> payload)
    {
        var section = Section(payload, 0x00);
        for (var i = 8; i + 4 <= section.Length; i += 4)
        {
            var program = (section[i] << 8) | section[i + 1];
            if (program != 0)
            {
                _pmtPid = ((section[i + 2] & 0x1F) << 8) | section[i + 3];
                return;
            }
        }
    }

    private void ReadPmt(ReadOnlySpan<byte> payload)
    {
        var section = Section(payload, 0x02);
        if (section.Length < 12)
        {
            return;
        }

        var programInfo = ((section[10] & 0x0F) << 8) | section[11];
        int video = -1, audio = -1;
        byte unsupported = 0;
        for (var i = 12 + programInfo; i + 5 <= section.Length;)
        {
            var type = section[i];
            var pid = ((section[i + 1] & 0x1F) << 8) | section[i + 2];
            var info = ((section[i + 3] & 0x0F) << 8) | section[i + 4];
            i += 5 + info;
            switch (type)
            {
                case StreamTypeH264 when video < 0:
                    video = pid;
                    break;
                case StreamTypeAacAdts when audio < 0:
                    audio = pid;
                    break;
                case StreamTypeHevc or 0x01 or 0x02 or 0x10 or 0x42 or 0xD1 or 0xEA when video < 0:
                    unsupported = type;
                    break;
            }
        }

        if (video < 0 && unsupported != 0)
        {
            throw new TsUnsupportedException(unsupported == StreamTypeHevc
                ? "HEVC video (stream_type 0x24) is not supported over SRT yet; publish H.264."
                : $"Unsupported video (stream_type 0x{unsupported:X2}); publish H.264.");
        }

        if (video != _videoPid)
        {
            _videoPes.Reset();
            _videoPid = video;
        }

        if (audio != _audioPid)
        {
            _audioPes.Reset();
            _audioPid = audio;
        }

        HasProgram = true;
    }

    private void PesPayload(ref Pes pes, ReadOnlySpan<byte> payload, bool unitStart, int counter, bool discontinuity, bool video)
    {
        if (pes.Counter >= 0 && !discontinuity)
        {
            var expected = (pes.Counter + 1) & 0x0F;
            if (counter == pes.Counter)
            {
                return; // a duplicate packet (§2.4.3.3 allows one): same payload again
            }

            if (counter != expected)
            {
                ContinuityErrors++;
                pes.Corrupt = true;
            }
        }

        pes.Counter = counter;
        if (unitStart)
        {
            Emit(ref pes, video);
            pes.Corrupt = false;
            pes.Started = true;
        }

        if (!pes.Started || pes.Corrupt)
        {
            return;
        }

        if (pes.Length + payload.Length > MaxPesBytes)
        {
            pes.Corrupt = true; // dropped whole, like an oversized RTMP message
            pes.Length = 0;
            return;
        }

        pes.Append(payload);
        if (pes.Declared > 0 && pes.Length >= pes.Declared)
        {
            Emit(ref pes, video); // complete by its PES_packet_length: no need to wait for the next one
        }
    }

    private void Emit(ref Pes pes, bool video)
    {
        if (!pes.Started || pes.Corrupt || pes.Length == 0)
        {
            pes.Length = 0;
            pes.Started = false;
            return;
        }

        var data = pes.Data;
        pes.Length = 0;
        pes.Started = false;

        // PES header (§2.4.3.6): start code prefix, stream_id, PES_packet_length, flags, header length, PTS/DTS.
        if (data.Length < 9 || data[0] != 0 || data[1] != 0 || data[2] != 1)
        {
            return;
        }

        var headerLength = data[8];
        var flags = data[7] >> 6;
        if (9 + headerLength > data.Length || flags == 1 || (flags >= 2 && headerLength < (flags == 3 ? 10 : 5)))
        {
            return;
        }

        if (flags < 2)
        {
            return; // no PTS: nothing to time the access unit by
        }

        var pts = Unwrap(Timestamp(data[9..]));
        var dts = flags == 3 ? Unwrap(Timestamp(data[14..])) : pts;
        var body = data[(9 + headerLength)..];
        if (video)
        {
            _video.OnAccessUnit(dts, pts, body);
        }
        else
        {
            _audio.OnPes(pts, body);
        }
    }

    private static long Timestamp(ReadOnlySpan<byte> b) =>
        ((long)((b[0] >> 1) & 0x07) << 30) | ((long)b[1] << 22) | ((long)(b[2] >> 1) << 15) | ((long)b[3] << 7) | ((long)b[4] >> 1);

    /// <summary>
    /// Places a 33-bit timestamp on the continuous clock: the candidate nearest the last timestamp seen (on either track)
    /// wins, so a wrap every 26.5 hours moves the clock on instead of 2^33 ticks back.
    /// </summary>
    internal long Unwrap(long raw)
    {
        if (_clock == long.MinValue)
        {
            _clock = raw;
            return raw;
        }

        var value = raw + (_clock - (_clock & (Wrap - 1)));
        var diff = value - _clock;
        if (diff > Wrap / 2)
        {
            value -= Wrap;
        }
        else if (diff < -(Wrap / 2))
        {
            value += Wrap;
        }

        _clock = value;
        return value;
    }

    public void Dispose()
    {
        _videoPes.Reset();
        _audioPes.Reset();
    }

    /// <summary>One PID's PES being reassembled into a pooled buffer.</summary>
    private struct Pes
    {
        private byte[]? _buffer;

        public int Counter;
        public int Length;
        public bool Started;
        public bool Corrupt;

        public Pes()
        {
            Counter = -1;
        }

        /// <summary>6 + PES_packet_length, or 0 when unbounded (video).</summary>
        public readonly int Declared => Length >= 6 && _buffer is { } b && ((b[4] << 8) | b[5]) is var n && n > 0 ? 6 + n : 0;

        public readonly ReadOnlySpan<byte> Data => _buffer.AsSpan(0, Length);

        public void Append(ReadOnlySpan<byte> payload)
        {
            if (_buffer is null || _buffer.Length < Length + payload.Length)
            {
                var grown = ArrayPool<byte>.Shared.Rent(Math.Max(Length + payload.Length, Math.Min(MaxPesBytes, Math.Max(4096, (_buffer?.Length ?? 0) * 2))));
                if (_buffer is not null)
                {
                    _buffer.AsSpan(0, Length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

                _buffer = grown;
            }

            payload.CopyTo(_buffer.AsSpan(Length));
            Length += payload.Length;
        }

        public void Reset()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }

            Length = 0;
            Counter = -1;
            Started = false;
            Corrupt = false;
        }
    }
}
