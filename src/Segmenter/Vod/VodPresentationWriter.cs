using System.Globalization;
using System.Text;
using StreamVerse.Segmenter.Dash;
using StreamVerse.Segmenter.Hls;

namespace StreamVerse.Segmenter.Vod;

/// <summary>A packaged video rendition and what the manifests say about it.</summary>
internal sealed record VodVideoRendition(VodTrackWriter Track, int Width, int Height, double FrameRate);

/// <summary>A packaged audio rendition (one per kept audio stream of the source).</summary>
/// <param name="Language">RFC 5646 tag for the manifests ("en", "und").</param>
/// <param name="Name">What a player shows (HLS NAME): no '"', CR or LF.</param>
/// <param name="IsDefault">The rendition a player starts with: exactly one per presentation.</param>
internal sealed record VodAudioRendition(VodTrackWriter Track, int SampleRate, int Channels, string Language = "und", string Name = "audio", bool IsDefault = true);

/// <summary>
/// Writes the manifests of a finished VOD presentation next to its segments: <c>master.m3u8</c> (one variant
/// per video rung, BANDWIDTH from measured peaks), one media playlist per track (<c>{prefix}.m3u8</c>) and a
/// static <c>manifest.mpd</c>, all with relative URIs so the folder can be served or uploaded as it is.
/// One audio rendition is written as it always was (one unnamed EXT-X-MEDIA, one audio AdaptationSet without a
/// language). Several are alternative renditions: an EXT-X-MEDIA each with LANGUAGE and NAME in one group, and one
/// AdaptationSet each with <c>@lang</c> and Role main (the default) or alternate.
/// </summary>
internal static class VodPresentationWriter
{
    public const string MasterPlaylist = "master.m3u8";
    public const string Manifest = "manifest.mpd";

    public static void Write(string directory, IReadOnlyList<VodVideoRendition> video, IReadOnlyList<VodAudioRendition> audios)
    {
        var sb = new StringBuilder();
        var tracks = video.Select(v => v.Track).ToList();
        tracks.AddRange(audios.Select(a => a.Track));
        var alternatives = audios.Count > 1;

        // The variant's audio: the default rendition, whose codec the CODECS attribute names. With alternatives, the
        // peak is the largest of the group's (RFC 8216bis §4.4.6.2: BANDWIDTH covers every rendition it may be played with).
        var audio = audios.FirstOrDefault(a => a.IsDefault) ?? audios.FirstOrDefault();
        var audioPeak = audios.Count == 0 ? 0 : audios.Max(a => a.Track.PeakBitrate);
        var audioAverage = audios.Count == 0 ? 0 : audios.Max(a => a.Track.AverageBitrate);

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
                v.Track.PeakBitrate + audioPeak,
                v.Track.AverageBitrate + audioAverage,
                codecs,
                v.Width,
                v.Height,
                v.FrameRate));
        }

        if (video.Count == 0 && audio is not null)
        {
            variants.Add(new VariantParams(audio.Track.Prefix + ".m3u8", audioPeak, audioAverage, audio.Track.Codec!, 0, 0, 0));
        }

        // Highest rung first: some players start with the first listed variant.
        variants.Sort((a, b) => b.Bandwidth.CompareTo(a.Bandwidth));
        var master = alternatives
            ? HlsPlaylistWriter.WriteVodMaster(sb, variants,
                [.. audios.Select(a => new AudioRenditionParams(a.Track.Prefix + ".m3u8", a.Name, a.Language, a.IsDefault, a.Channels))])
            : HlsPlaylistWriter.WriteVodMaster(sb, variants, audio is not null && video.Count > 0 ? audio.Track.Prefix + ".m3u8" : null, audio?.Channels ?? 0);
        File.WriteAllBytes(Path.Combine(directory, MasterPlaylist), master);

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

        foreach (var a in audios)
        {
            mpdTracks.Add(new MpdTrack
            {
                Prefix = a.Track.Prefix,
                IsVideo = false,
                Timescale = a.Track.Timescale,
                Codec = a.Track.Codec!,
                Bandwidth = a.Track.PeakBitrate,
                SampleRate = a.SampleRate,
                Channels = a.Channels,
                Segments = a.Track.Segments,
                Language = alternatives ? a.Language : null,
                Role = alternatives ? (a.IsDefault ? "main" : "alternate") : null,
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
