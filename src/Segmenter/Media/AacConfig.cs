using System.Globalization;

namespace StreamVerse.Segmenter.Media;

/// <summary>An AAC AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): object type, sampling rate, channels.</summary>
internal sealed class AacConfig
{
    private static readonly int[] SampleRates =
        [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

    private AacConfig(byte[] record, int objectType, int sampleRate, int channels, int frameLength)
    {
        Record = record;
        ObjectType = objectType;
        SampleRate = sampleRate;
        Channels = channels;
        FrameLength = frameLength;
        Codec = string.Create(CultureInfo.InvariantCulture, $"mp4a.40.{objectType}");
    }

    public byte[] Record { get; }

    public int ObjectType { get; }

    /// <summary>Also the audio track's timescale.</summary>
    public int SampleRate { get; }

    public int Channels { get; }

    /// <summary>Samples per access unit: 1024, or 960 when frameLengthFlag is set.</summary>
    public int FrameLength { get; }

    /// <summary><c>mp4a.40.N</c> (RFC 6381 §3.3).</summary>
    public string Codec { get; }

    public static AacConfig Parse(ReadOnlySpan<byte> asc)
    {
        if (asc.Length < 2)
        {
            throw new InvalidDataException("AudioSpecificConfig too short.");
        }

        var r = new BitReader(asc);
        var objectType = (int)r.ReadBits(5);
        if (objectType == 31)
        {
            objectType = 32 + (int)r.ReadBits(6);
        }

        var frequencyIndex = (int)r.ReadBits(4);
        int sampleRate;
        if (frequencyIndex == 15)
        {
            sampleRate = (int)r.ReadBits(24);
        }
        else if (frequencyIndex < SampleRates.Length)
        {
            sampleRate = SampleRates[frequencyIndex];
        }
        else
        {
            throw new InvalidDataException("Reserved AAC sampling frequency index.");
        }

        var channels = (int)r.ReadBits(4);
        var frameLength = 1024;

        // GASpecificConfig (§4.4.1) follows directly for the plain GA object types.
        if (objectType is 1 or 2 or 3 or 4 or 6 or 7)
        {
            try
            {
                if (r.ReadFlag())
                {
                    frameLength = 960;
                }
            }
            catch (InvalidDataException)
            {
                // Two-byte configs from some encoders end here; 1024 is the default.
            }
        }

        if (sampleRate <= 0 || channels is < 0 or > 8)
        {
            throw new InvalidDataException("Unsupported AudioSpecificConfig.");
        }

        return new AacConfig(asc.ToArray(), objectType, sampleRate, channels == 0 ? 2 : channels, frameLength);
    }
}
