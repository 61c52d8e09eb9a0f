using StreamVerse.Origin.Srt.MpegTs;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// An MPEG transport stream (what an SRT publisher sends) through <see cref="TsDemuxer"/>, byte 0 choosing the piece size
/// the rest is fed in (1..256, as SRT messages of any size would). Invariants: only <see cref="TsUnsupportedException"/>
/// escapes; the sink (which parses configurations as the segmenter does) sees samples only after their configuration,
/// never empty; the demuxer's counts match what the sink saw; the same input fed whole gives the same samples; allocation
/// stays proportional to the input (PES buffers are pooled and capped).
/// </summary>
internal static class MpegTsTarget
{
    public static void Run(byte[] input)
    {
        if (input.Length < 1)
        {
            return;
        }

        var piece = input[0] + 1;
        var data = input.AsSpan(1);
        var mark = Check.AllocationMark();
        var pieces = Demux(data, piece);
        Check.AllocatedAtMost(mark, input.Length, 64, "MPEG-TS demux");
        var whole = Demux(data, Math.Max(1, data.Length));
        Check.That(pieces.Samples.SequenceEqual(whole.Samples), $"feeding in {piece}-byte pieces gave other samples than feeding it whole");
        Check.That(pieces.Refusal == whole.Refusal, "a refusal that depends on how the bytes were split");
    }

    private sealed record Result(List<(TrackKind, long, long, bool, int)> Samples, string? Refusal);

    private static Result Demux(ReadOnlySpan<byte> data, int piece)
    {
        var sink = new RecordingSink();
        using var demuxer = new TsDemuxer(sink);
        string? refusal = null;
        try
        {
            for (var i = 0; i < data.Length; i += piece)
            {
                demuxer.Feed(data.Slice(i, Math.Min(piece, data.Length - i)));
            }

            demuxer.Flush();
        }
        catch (TsUnsupportedException e)
        {
            refusal = e.Message;
        }

        Check.That(demuxer.VideoSamples == sink.Checking.VideoSamples && demuxer.AudioSamples == sink.Checking.AudioSamples, "sample counts differ from what reached the sink");
        return new Result(sink.Samples, refusal);
    }

    /// <summary>Checks as <see cref="CheckingMediaSink"/> does and records each sample's shape.</summary>
    private sealed class RecordingSink : IMediaSink
    {
        public CheckingMediaSink Checking { get; } = new();

        public List<(TrackKind, long, long, bool, int)> Samples { get; } = [];

        public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord) => Checking.OnVideoConfig(avcDecoderConfigurationRecord);

        public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig) => Checking.OnAudioConfig(audioSpecificConfig);

        public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
        {
            Checking.OnSample(track, dts, pts, isKeyframe, data);
            Samples.Add((track, dts, pts, isKeyframe, data.Length));
        }

        public void OnEnd() => Checking.OnEnd();
    }
}
