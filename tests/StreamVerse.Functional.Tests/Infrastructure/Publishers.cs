namespace StreamVerse.Functional.Tests.Infrastructure;

/// <summary>Independent RTMP clients that publish small generated clips.</summary>
public static class Publishers
{
    /// <summary>ffmpeg as OBS would push: H.264 with B-frames and AAC, in real time.</summary>
    public static Tool Ffmpeg(string url, int seconds, int gop = 25, string size = "320x240") => Tool.Start("ffmpeg",
        "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", $"testsrc2=size={size}:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "-c:v", "libx264", "-bf", "2", "-g", gop.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k",
        "-f", "flv", url);

    /// <summary>GStreamer's rtmp2sink: a second RTMP implementation nobody here wrote.</summary>
    public static Tool GStreamer(string url, int seconds) => Tool.Start("gst-launch-1.0",
        "-q", "-e",
        "videotestsrc", "is-live=true", $"num-buffers={seconds * 25}", "!", "video/x-raw,width=320,height=240,framerate=25/1", "!",
        "x264enc", "tune=zerolatency", "key-int-max=25", "speed-preset=ultrafast", "!", "h264parse", "!", "queue", "!", "flvmux", "name=m", "streamable=true", "!",
        "rtmp2sink", $"location={url}",
        "audiotestsrc", "is-live=true", $"num-buffers={seconds * 47}", "!", "audioconvert", "!", "audioresample", "!", "audio/x-raw,rate=48000,channels=2", "!",
        "avenc_aac", "!", "aacparse", "!", "queue", "!", "m.");

    public static async Task<string> WaitForAsync(HttpClient http, string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync(path);
            if (response.IsSuccessStatusCode)
            {
                return await response.Content.ReadAsStringAsync();
            }

            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            await Task.Delay(200);
        }

        throw new TimeoutException($"{path} not available in {timeout}: {last}");
    }
}
