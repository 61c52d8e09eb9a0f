using System.Globalization;
using System.Text;
using StreamVerse.Segmenter.Dash;
using StreamVerse.Segmenter.Hls;

namespace StreamVerse.Segmenter.Vod;

/// <summary>A packaged video rendition and what the manifests say about it.</summary>
internal sealed record VodVideoRendition(VodTrackWriter Track, int Width, int Height, double FrameRate);

/// <summary>The packaged audio rendition.</summary>
internal sealed record VodAudioRendition(VodTrackWriter Track, int SampleRate, int Channels);

/// <summary>
/// Writes the manifests of a finished VOD presentation next to its segments: <c>master.m3u8</c> (one variant
/// per video rung, BANDWIDTH from measured peaks), one media playlist per track (<c>{prefix}.m3u8</c>) and a
/// static <c>manifest.mpd</c>, all with relative URIs so the folder can be served or uploaded as it is.
/// </summary>
internal static class VodPresentationWriter
{
    public const string MasterPlaylist = "master.m3u8";
    public const string Manifest = "manifest.mpd";

    public static void Write(string directory, IReadOnlyList<VodVideoRendition> video, VodAudioRendition? audio)
    {
        var sb = new StringBuilder();
        var tracks = video.Select(v => v.Track).ToList();
        if (audio is not null)
        {
            tracks.Add(audio.Track);
        }

        foreach (var t in tracks)
        {
            var segments = t.Segments.Select(s => (VodTrackWriter.SegmentFileName(t.Prefix, s.Msn), s.Duration)).ToList();
            File.WriteAllBytes(Path.Combine(directory, t.Prefix + ".m3u8"), HlsPlaylistWriter.WriteVod(sb, t.InitFileName, segments));
        }

        var variants = new List<VariantParams>();
        foreach (var v in video)
        {
            // RFC 8216bis §4.4.6.2: BANDWIDTH is the peak of the whole variant, audio rendition included.
            var codecs = audio is null ? v.Track.Codec! : string.Create(CultureInfo.InvariantCulture, $"{v.Track.Codec},{audio.Track.Codec}");
            variants.Add(new VariantParams(
                v.Track.Prefix + ".m3u8",
                v.Track.PeakBitrate + (audio?.Track.PeakBitrate ?? 0),
                v.Track.AverageBitrate + (audio?.Track.AverageBitrate ?? 0),
                codecs,
                v.Width,
                v.Height,
                v.FrameRate));
        }

        if (video.Count == 0 && audio is not null)
        {
            variants.Add(new VariantParams(audio.Track.Prefix + ".m3u8", audio.Track.PeakBitrate, audio.Track.AverageBitrate, audio.Track.Codec!, 0, 0, 0));
        }

        // Highest rung first: some players start with the first listed variant.
        variants.Sort((a, b) => b.Bandwidth.CompareTo(a.Bandwidth));
        var audioUri = audio is not null && video.Count > 0 ? audio.Track.Prefix + ".m3u8" : null;
        File.WriteAllBytes(Path.Combine(directory, MasterPlaylist), HlsPlaylistWriter.WriteVodMaster(sb, variants, audioUri, audio?.Channels ?? 0));

        var mpdTracks = new List<MpdTrack>();
        foreach (var v in video)
        {
            mpdTracks.Add(new MpdTrack
            {
                Prefix = v.Track.Prefix,
                IsVideo = true,
                Timescale = v.Track.Timescale,
                Codec = v.Track.Codec!,
                Bandwidth = v.Track.PeakBitrate,
                Width = v.Width,
                Height = v.Height,
                FrameRate = v.FrameRate,
                Segments = v.Track.Segments,
            });
        }

        if (audio is not null)
        {
            mpdTracks.Add(new MpdTrack
            {
                Prefix = audio.Track.Prefix,
                IsVideo = false,
                Timescale = audio.Track.Timescale,
                Codec = audio.Track.Codec!,
                Bandwidth = audio.Track.PeakBitrate,
                SampleRate = audio.SampleRate,
                Channels = audio.Channels,
                Segments = audio.Track.Segments,
            });
        }

        var duration = tracks.Count == 0 ? 0 : tracks.Max(t => t.Duration);
        var longest = tracks.SelectMany(t => t.Segments).Select(s => s.Duration).DefaultIfEmpty(0).Max();
        var target = tracks.Count == 0 ? TimeSpan.Zero : tracks[0].TargetDuration;
        var mpd = new MpdParams(string.Empty, Dynamic: false, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch,
            TimeSpan.FromSeconds(Math.Max(target.TotalSeconds, longest)), TimeSpan.Zero, duration);
        File.WriteAllBytes(Path.Combine(directory, Manifest), MpdWriter.Write(sb, mpd, mpdTracks));
    }
}
