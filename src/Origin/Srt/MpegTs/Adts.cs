using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Srt.MpegTs;

/// <summary>
/// Splits AAC in ADTS framing (ISO/IEC 13818-7 §6.2 / 14496-3 §1.A.2), as MPEG-TS stream_type 0x0F carries it, into raw
/// frames for <see cref="IMediaSink"/>, with the AudioSpecificConfig (14496-3 §1.6.2.1) its header implies, sent again if
/// it changes. A PES may hold several frames: each gets the PES's PTS plus 1024 samples per frame before it. Frames with
/// more than one raw data block, a channel configuration of 0 (a PCE) or a reserved sampling rate index are skipped.
/// </summary>
internal sealed class Adts(IMediaSink sink)
{
    private static readonly int[] Rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

    private int _config = -1;

    public long Samples { get; private set; }

    public long Skipped { get; private set; }

    public void OnPes(long pts, ReadOnlySpan<byte> data)
    {
        var frame = 0;
        while (data.Length >= 7)
        {
            if (data[0] != 0xFF || (data[1] & 0xF6) != 0xF0)
            {
                Skipped++;
                return; // lost sync: the rest of this PES is not ADTS
            }

            var protectionAbsent = (data[1] & 1) != 0;
            var header = protectionAbsent ? 7 : 9;
            var profile = data[2] >> 6;
            var rateIndex = (data[2] >> 2) & 0x0F;
            var channels = ((data[2] & 1) << 2) | (data[3] >> 6);
            var length = ((data[3] & 0x03) << 11) | (data[4] << 3) | (data[5] >> 5);
            var blocks = data[6] & 0x03;
            if (length < header || length > data.Length)
            {
                Skipped++;
                return;
            }

            var raw = data[header..length];
            data = data[length..];
            if (blocks != 0 || channels == 0 || rateIndex >= Rates.Length || raw.IsEmpty)
            {
                Skipped++;
                continue;
            }

            // AudioSpecificConfig: audioObjectType (5 bits) = ADTS profile + 1, samplingFrequencyIndex (4), channelConfiguration (4).
            var config = ((profile + 1) << 11) | (rateIndex << 7) | (channels << 3);
            if (config != _config)
            {
                _config = config;
                sink.OnAudioConfig([(byte)(config >> 8), (byte)config]);
            }

            var ticks = pts + (frame * 1024L * 90_000 / Rates[rateIndex]);
            frame++;
            Samples++;
            sink.OnSample(TrackKind.Audio, ticks, ticks, true, raw);
        }
    }
}
