using StreamVerse.Origin.Srt.MpegTs;
using StreamVerse.Segmenter.Media;
using StreamVerse.Tests.Shared;

namespace StreamVerse.Origin.Tests.Srt;

/// <summary>
/// The MPEG-TS demuxer against a real transport stream from ffmpeg (H.264 + AAC, 160x120, one second): the same samples
/// in every split, configurations the segmenter parses, timestamps on one clock; and the edge cases: a lost packet, a
/// 33-bit wrap, HEVC refused.
/// </summary>
public sealed class TsDemuxerTests
{
    private static readonly Lazy<byte[]> Clip = new(() => MakeClip("libx264", "mpegts"));

    internal static byte[] MakeClip(string codec, string format, int seconds = 1)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sv-ts-").FullName, "clip.ts");
        var r = TestProcesses.Run(TimeSpan.FromSeconds(60), "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c:v", codec, "-g", "25", "-bf", "2", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-f", format, path);
        Assert.True(r.ExitCode == 0, r.StdErr);
        return File.ReadAllBytes(path);
    }

    internal sealed class Recorder : IMediaSink
    {
        public List<byte[]> VideoConfigs { get; } = [];

        public List<byte[]> AudioConfigs { get; } = [];

        public List<(TrackKind Track, long Dts, long Pts, bool Key, int Length, int Hash)> Samples { get; } = [];

        public void OnVideoConfig(ReadOnlySpan<byte> record) => VideoConfigs.Add(record.ToArray());

        public void OnAudioConfig(ReadOnlySpan<byte> config) => AudioConfigs.Add(config.ToArray());

        public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
        {
            var hash = new HashCode();
            hash.AddBytes(data);
            Samples.Add((track, dts, pts, isKeyframe, data.Length, hash.ToHashCode()));
        }

        public void OnEnd()
        {
        }
    }

    private static Recorder Demux(byte[] ts, int piece, Action<TsDemuxer>? check = null)
    {
        var sink = new Recorder();
        using var demuxer = new TsDemuxer(sink);
        for (var i = 0; i < ts.Length; i += piece)
        {
            demuxer.Feed(ts.AsSpan(i, Math.Min(piece, ts.Length - i)));
        }

        demuxer.Flush();
        check?.Invoke(demuxer);
        return sink;
    }

    [Fact]
    public void A_real_transport_stream_becomes_avc_and_aac_the_segmenter_parses()
    {
        var sink = Demux(Clip.Value, 1316, d =>
        {
            Assert.True(d.HasProgram && d.HasVideo && d.HasAudio);
            Assert.Equal(0, d.ContinuityErrors);
            Assert.Equal(0, d.SkippedBytes);
        });

        var avc = AvcConfig.Parse(Assert.Single(sink.VideoConfigs));
        Assert.Equal((160, 120), (avc.Width, avc.Height));
        var aac = AacConfig.Parse(Assert.Single(sink.AudioConfigs));
        Assert.Equal(48000, aac.SampleRate);

        var video = sink.Samples.Where(s => s.Track == TrackKind.Video).ToList();
        var audio = sink.Samples.Where(s => s.Track == TrackKind.Audio).ToList();
        Assert.Equal(25, video.Count);
        Assert.InRange(audio.Count, 46, 49); // 48000 / 1024 per second
        Assert.True(video[0].Key);
        Assert.Equal(1, video.Count(v => v.Key));

        // One clock: DTS ascends per track in 1/25 s and 1024/48000 s steps; B-frames put PTS ahead of DTS.
        for (var i = 1; i < video.Count; i++)
        {
            Assert.Equal(3600, video[i].Dts - video[i - 1].Dts);
        }

        for (var i = 1; i < audio.Count; i++)
        {
            Assert.InRange(audio[i].Dts - audio[i - 1].Dts, 1919, 1921);
        }

        Assert.Contains(video, v => v.Pts > v.Dts);
        Assert.True(Math.Abs(video[0].Dts - audio[0].Dts) < 90_000);
    }

    [Fact]
    public void The_same_samples_come_out_at_every_split_of_the_first_packets_and_in_any_piece_size()
    {
        var whole = Demux(Clip.Value, Clip.Value.Length).Samples;
        foreach (var piece in new[] { 1, 7, 100, 187, 188, 189, 1316, 4096 })
        {
            Assert.Equal(whole, Demux(Clip.Value, piece).Samples);
        }

        // Every split point within the first ten packets (PAT, PMT and the first PES headers).
        var ts = Clip.Value;
        for (var split = 1; split < 10 * TsDemuxer.PacketSize; split += 3)
        {
            var sink = new Recorder();
            using var demuxer = new TsDemuxer(sink);
            demuxer.Feed(ts.AsSpan(0, split));
            demuxer.Feed(ts.AsSpan(split));
            demuxer.Flush();
            Assert.Equal(whole, sink.Samples);
        }
    }

    [Fact]
    public void A_lost_packet_is_counted_and_drops_only_the_access_unit_it_broke()
    {
        var ts = Clip.Value;
        var whole = Demux(ts, 1316);

        // Remove the 40th packet of the video PID (inside a frame's PES, not its first packet).
        var videoPid = -1;
        var seen = 0;
        var cut = -1;
        for (var i = 0; i + TsDemuxer.PacketSize <= ts.Length; i += TsDemuxer.PacketSize)
        {
            var pid = ((ts[i + 1] & 0x1F) << 8) | ts[i + 2];
            var start = (ts[i + 1] & 0x40) != 0;
            if (videoPid < 0 && start && pid > 0x20 && ts[i + 4 + ((ts[i + 3] & 0x20) != 0 ? 1 + ts[i + 4] : 0) + 3] == 0xE0)
            {
                videoPid = pid;
            }

            if (pid == videoPid && ++seen >= 40 && !start)
            {
                cut = i;
                break;
            }
        }

        Assert.True(cut > 0);
        var damaged = ts[..cut].Concat(ts[(cut + TsDemuxer.PacketSize)..]).ToArray();
        long errors = 0;
        var sink = Demux(damaged, 1316, d => errors = d.ContinuityErrors);
        Assert.Equal(1, errors);
        Assert.Equal(whole.Samples.Count(s => s.Track == TrackKind.Video) - 1, sink.Samples.Count(s => s.Track == TrackKind.Video));
        Assert.Equal(whole.Samples.Count(s => s.Track == TrackKind.Audio), sink.Samples.Count(s => s.Track == TrackKind.Audio));
    }

    [Fact]
    public void Garbage_before_and_between_packets_is_skipped_to_the_next_sync_byte()
    {
        var ts = Clip.Value;
        var noisy = new byte[] { 1, 2, 3 }.Concat(ts[..(5 * 188)]).Concat(new byte[] { 9, 9 }).Concat(ts[(5 * 188)..]).ToArray();
        Assert.Equal(Demux(ts, 1316).Samples, Demux(noisy, 1316).Samples);
    }

    [Fact]
    public void Timestamps_continue_across_the_33_bit_wrap()
    {
        using var demuxer = new TsDemuxer(new Recorder());
        const long wrap = 1L << 33;
        Assert.Equal(wrap - 3000, demuxer.Unwrap(wrap - 3000));
        Assert.Equal(wrap + 600, demuxer.Unwrap(600)); // past the wrap: onwards, not 26.5 h back
        Assert.Equal(wrap - 1000, demuxer.Unwrap(wrap - 1000)); // a B-frame's PTS from before the wrap
        Assert.Equal(wrap + 4200, demuxer.Unwrap(4200));
        Assert.Equal(wrap - 10, demuxer.Unwrap(wrap - 10)); // slightly back again: the nearer candidate, not a second wrap
    }

    [Fact]
    public void Hevc_is_refused_with_a_reason()
    {
        var ts = MakeClip("libx265", "mpegts");
        var e = Assert.Throws<TsUnsupportedException>(() => Demux(ts, 1316));
        Assert.Contains("HEVC", e.Message, StringComparison.Ordinal);
    }
}
