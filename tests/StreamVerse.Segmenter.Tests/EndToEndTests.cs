using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>Real encodes through the segmenter to disk, checked with ffmpeg/ffprobe and at box level.</summary>
public sealed class EndToEndTests : IDisposable
{
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<(string Root, string SessionId)> RecordAsync(string variant)
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using var registry = TestStreams.CreateRegistry(out var recordings, time: clock);
        _directories.Add(recordings);
        var stream = registry.TryStartPublishing("cam")!;
        FlvReader.Feed(stream, FlvReader.Read(Tools.Fixture(variant)), clock: clock);
        Assert.True(stream.IsEnded);
        await TestStreams.WaitRemovedAsync(registry, "cam");
        return (Path.Combine(recordings, "cam"), stream.SessionId);
    }

    [Theory]
    [InlineData("25", 25.0)]
    [InlineData("30g50", 30.0)]
    public async Task Video_and_audio_record_and_decode_cleanly(string variant, double fps)
    {
        var (root, sid) = await RecordAsync(variant);
        foreach (var file in new[] { "index.m3u8", "video.m3u8", "audio.m3u8", "index.mpd" })
        {
            Assert.True(File.Exists(Path.Combine(root, file)), file);
        }

        var master = File.ReadAllText(Path.Combine(root, "index.m3u8"));
        Assert.Contains("#EXT-X-INDEPENDENT-SEGMENTS", master);
        Assert.Contains("TYPE=AUDIO,GROUP-ID=\"audio\"", master);
        Assert.Contains("RESOLUTION=320x240", master);
        Assert.Contains($"FRAME-RATE={fps.ToString("0.000", CultureInfo.InvariantCulture)}", master);
        Assert.Matches("CODECS=\"avc1\\.[0-9A-F]{6},mp4a\\.40\\.2\"", master);
        Assert.Contains("AUDIO=\"audio\"", master);

        var videoPlaylist = File.ReadAllText(Path.Combine(root, "video.m3u8"));
        Assert.Contains("#EXT-X-ENDLIST", videoPlaylist);
        Assert.Contains($"#EXT-X-MAP:URI=\"{sid}/video_init.mp4\"", videoPlaylist);
        Assert.Contains($"{sid}/video_0.m4s", videoPlaylist);

        foreach (var input in new[] { "index.m3u8", "index.mpd" })
        {
            var decode = Tools.Run("ffmpeg", "-v", "error", "-i", Path.Combine(root, input), "-map", "0", "-f", "null", "-");
            Assert.True(decode.ExitCode == 0 && decode.StdErr.Trim().Length == 0, $"{input}: {decode.StdErr}");

            var probe = Tools.Run("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height:format=duration", "-of", "json", Path.Combine(root, input));
            Assert.Equal(0, probe.ExitCode);
            using var json = JsonDocument.Parse(probe.StdOut);
            var streams = json.RootElement.GetProperty("streams").EnumerateArray().ToList();
            var video = Assert.Single(streams, s => s.GetProperty("codec_type").GetString() == "video");
            Assert.Equal(320, video.GetProperty("width").GetInt32());
            Assert.Equal(240, video.GetProperty("height").GetInt32());
            Assert.Single(streams, s => s.GetProperty("codec_type").GetString() == "audio");
            var duration = double.Parse(json.RootElement.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture);
            Assert.InRange(duration, 5.5, 6.6);
        }

        // B-frames survive: presentation order differs from decode order.
        var packets = Tools.Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts,flags", "-of", "csv=p=0", Path.Combine(root, "video.m3u8"));
        var rows = packets.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',')).ToList();
        var pts = rows.Select(r => long.Parse(r[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(pts.Zip(pts.Skip(1)), p => p.Second < p.First);
        Assert.True(rows.Count >= 140, $"only {rows.Count} video packets");

        // Each segment, played alone after the init segment, starts with a decodable keyframe.
        var init = File.ReadAllBytes(Path.Combine(root, sid, "video_init.mp4"));
        var segmentCount = Directory.GetFiles(Path.Combine(root, sid), "video_*.m4s").Count(f => Path.GetFileName(f).Count(c => c == '.') == 1);
        Assert.True(segmentCount >= 2);
        for (var msn = 0; msn < segmentCount; msn++)
        {
            var single = Path.Combine(root, $"single_{msn}.mp4");
            File.WriteAllBytes(single, [.. init, .. File.ReadAllBytes(Path.Combine(root, sid, $"video_{msn}.m4s"))]);
            var first = Tools.Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame,pict_type", "-read_intervals", "%+#1", "-of", "csv=p=0", single);
            Assert.StartsWith("1,I", first.StdOut.Trim());
        }

        // The static MPD describes all of it.
        var mpd = XDocument.Load(Path.Combine(root, "index.mpd"));
        XNamespace ns = "urn:mpeg:dash:schema:mpd:2011";
        Assert.Equal("static", mpd.Root!.Attribute("type")!.Value);
        Assert.NotNull(mpd.Root.Attribute("mediaPresentationDuration"));
        var sets = mpd.Descendants(ns + "AdaptationSet").ToList();
        Assert.Equal(2, sets.Count);
        foreach (var set in sets)
        {
            // Explicit t values only where the timeline is not contiguous, so they must increase.
            var ts = set.Descendants(ns + "S").Select(s => (long?)s.Attribute("t")).Where(t => t is not null).ToList();
            Assert.Equal(ts.Order(), ts);
            Assert.Equal(ts.Count, ts.Distinct().Count());
        }

        var audioPdts = File.ReadAllLines(Path.Combine(root, "audio.m3u8")).Where(l => l.StartsWith("#EXT-X-PROGRAM-DATE-TIME:")).Select(l => DateTimeOffset.Parse(l[25..], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(audioPdts.Order(), audioPdts);

        var videoTimeline = sets[0].Descendants(ns + "S").Sum(s => long.Parse(s.Attribute("d")!.Value, CultureInfo.InvariantCulture) * (1 + (int?)s.Attribute("r") ?? 1));
        Assert.InRange(videoTimeline / 90000.0, 5.5, 6.6);
    }

    [Fact]
    public async Task Audio_only_records_and_decodes()
    {
        var (root, sid) = await RecordAsync("none");
        var master = File.ReadAllText(Path.Combine(root, "index.m3u8"));
        Assert.DoesNotContain("EXT-X-MEDIA:", master);
        Assert.Contains("CODECS=\"mp4a.40.2\"", master);
        Assert.Contains("\naudio.m3u8", master);
        Assert.False(File.Exists(Path.Combine(root, "video.m3u8")));

        foreach (var input in new[] { "index.m3u8", "index.mpd" })
        {
            var decode = Tools.Run("ffmpeg", "-v", "error", "-i", Path.Combine(root, input), "-f", "null", "-");
            Assert.True(decode.ExitCode == 0 && decode.StdErr.Trim().Length == 0, $"{input}: {decode.StdErr}");
        }

        var playlist = File.ReadAllText(Path.Combine(root, "audio.m3u8"));
        var extinf = playlist.Split('\n').Where(l => l.StartsWith("#EXTINF:")).Select(l => double.Parse(l[8..^1], CultureInfo.InvariantCulture)).ToList();
        Assert.InRange(extinf.Sum(), 5.8, 6.2);
        Assert.All(extinf.SkipLast(1), d => Assert.InRange(d, 2.0, 2.1));
        Assert.True(File.Exists(Path.Combine(root, sid, "audio_0.m4s")));
        Assert.False(File.Exists(Path.Combine(root, sid, "audio_0.0.m4s")), "parts are not recorded, only segments");
    }

    [Fact]
    public async Task Fragments_are_well_formed_and_continuous()
    {
        var (root, sid) = await RecordAsync("25");
        var dir = Path.Combine(root, sid);
        var starts = new Dictionary<string, List<ulong>>();
        foreach (var prefix in new[] { "video", "audio" })
        {
            var init = Mp4Box.Parse(File.ReadAllBytes(Path.Combine(dir, $"{prefix}_init.mp4")));
            Assert.Equal(["ftyp", "moov"], init.Select(b => b.Type));
            Assert.Contains("cmfc"u8.ToArray(), Enumerable.Range(0, (init[0].Size - 8) / 4).Select(i => init[0].Payload.Slice(i * 4, 4).ToArray()), new BytesComparer());
            var moov = init[1];
            Assert.NotNull(moov.Child("mvex").Child("trex"));
            var stsd = moov.Child("trak").Child("mdia").Child("minf").Child("stbl").Child("stsd");
            Assert.Equal(prefix == "video" ? "avc1" : "mp4a", System.Text.Encoding.ASCII.GetString(stsd.Payload.Span.Slice(12, 4)));

            ulong? expected = null;
            uint lastSequence = 0;
            starts[prefix] = [];
            for (var msn = 0; File.Exists(Path.Combine(dir, $"{prefix}_{msn}.m4s")); msn++)
            {
                var segment = File.ReadAllBytes(Path.Combine(dir, $"{prefix}_{msn}.m4s"));
                var fragments = Fragment.ParseAll(segment);

                starts[prefix].Add(fragments[0].BaseDecodeTime);

                for (var i = 0; i < fragments.Count; i++)
                {
                    var f = fragments[i];
                    Assert.True(f.Sequence > lastSequence, "mfhd sequence increases");
                    lastSequence = f.Sequence;
                    if (expected is { } e)
                    {
                        Assert.Equal(e, f.BaseDecodeTime); // continuous, never negative (unsigned, starts at >= 0)
                    }

                    expected = f.BaseDecodeTime + f.TotalDuration;
                    Assert.Equal(f.MdatPayloadOffset, f.MoofOffset + f.DataOffset);
                    Assert.Equal(f.MdatPayloadSize, f.Samples.Sum(s => (int)s.Size));
                    if (prefix == "video")
                    {
                        Assert.Equal(1, f.Version);
                        Assert.All(f.Samples, s => Assert.True(s.Flags is 0x02000000 or 0x01010000));
                        Assert.Equal(i == 0 ? 0x02000000u : f.Samples[0].Flags, f.Samples[0].Flags);
                        Assert.Contains(f.Samples, s => s.Cto != f.Samples[0].Cto || f.Samples.Count == 1);
                        Assert.All(f.Samples, s => Assert.Equal(3600u, s.Duration));
                    }
                    else
                    {
                        Assert.All(f.Samples, s => Assert.Equal(1024u, s.Duration));
                    }
                }
            }
        }

        // Same instants on both tracks: audio segment n starts within one AAC frame of video segment n.
        Assert.Equal(starts["video"].Count, starts["audio"].Count);
        for (var i = 0; i < starts["video"].Count; i++)
        {
            var videoSeconds = starts["video"][i] / 90000.0;
            var audioSeconds = starts["audio"][i] / 48000.0;
            // (The fixture's audio itself starts 59 ms after the first keyframe.)
            Assert.InRange(audioSeconds - videoSeconds, 0, i == 0 ? 0.07 : (1024 / 48000.0) + 0.002);
        }
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x!.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
