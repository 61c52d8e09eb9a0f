using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;

namespace StreamVerse.Fuzz;

/// <summary>
/// Writes the committed seed corpora (<c>--write-seeds DIR</c>): for each target a few valid inputs and edge cases, each
/// small. <c>corpus/flv/ffmpeg-64x48.flv</c> is not written here: it is a real FLV from ffmpeg (see README.md).
/// </summary>
internal static class SeedCorpus
{
    /// <summary>An AVCDecoderConfigurationRecord from x264 (Baseline, 64x48) and an AAC-LC AudioSpecificConfig (8 kHz mono, with SBR signalling).</summary>
    private static readonly byte[] AvcC = Convert.FromHexString("0142c00affe100156742c00ada11ec0440000003004000000523c489a801000468ce0fc8");

    private static readonly byte[] Asc = Convert.FromHexString("158856e500");

    public static void Write(string root)
    {
        void Seed(string target, string name, byte[] bytes)
        {
            var dir = Path.Combine(root, target);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }

        // rtmp-chunks: byte 0 = limits (bits 0-1) and piece size (bits 2-7); then the chunk stream.
        Seed("rtmp-chunks", "connect-createstream", [0x00, .. Chunks(w =>
        {
            w.Message(3, RtmpMessageType.CommandAmf0, 0, 0, Amf(ConnectArguments()));
            w.Message(2, RtmpMessageType.SetChunkSize, 0, 0, UInt32(4096));
            w.Message(3, RtmpMessageType.CommandAmf0, 0, 0, Amf("createStream", 2.0, null));
        })]);
        Seed("rtmp-chunks", "media-chunk-size-1-extended-timestamp", [0x05, .. Chunks(w =>
        {
            w.Message(2, RtmpMessageType.SetChunkSize, 0, 0, UInt32(1));
            w.ChunkSize = 1;
            w.Message(6, RtmpMessageType.Video, 1, 0x01000000, [0x17, 0x00, 0, 0, 0, .. AvcC]);
            w.Message(4, RtmpMessageType.Audio, 1, 0x01000010, [0xAF, 0x00, .. Asc]);
            w.Message(6, RtmpMessageType.Video, 1, 0x01000021, [0x17, 0x01, 0, 0, 0x21, 0, 0, 0, 2, 0x65, 0x88]);
        })]);
        Seed("rtmp-chunks", "over-tiny-limit", [0x02, .. Chunks(w => w.Message(3, RtmpMessageType.CommandAmf0, 0, 0, new byte[600]))]);
        Seed("rtmp-chunks", "abort-mid-message", [0x01, .. Chunks(w =>
        {
            // The first 128-byte chunk of a 300-byte message on chunk stream 4, an Abort for it, then a whole message.
            var partial = new ArrayBufferWriter<byte>();
            new RtmpChunkWriter().Write(partial, 4, RtmpMessageType.Video, 1, 40, new byte[300]);
            w.Raw(partial.WrittenSpan[..(12 + 128)]);
            w.Message(2, RtmpMessageType.Abort, 0, 0, UInt32(4));
            w.Message(4, RtmpMessageType.Video, 1, 80, [0x27, 0x01, 0, 0, 0]);
        })]);
        Seed("rtmp-chunks", "wide-chunk-stream-ids-and-compressed-headers", [0x09, .. Chunks(w =>
        {
            for (var i = 0; i < 3; i++)
            {
                w.Message(100, RtmpMessageType.Audio, 1, (uint)(23 * i), [0xAF, 0x01, 1, 2, 3]);
                w.Message(1000, RtmpMessageType.Video, 1, (uint)(33 * i), [0x27, 0x01, 0, 0, 0, 9]);
                w.Message(5, RtmpMessageType.DataAmf0, 1, 0, []);
            }
        })]);
        Seed("rtmp-chunks", "type-3-without-previous-header", [0x00, 0xC3, 0x00]);

        // rtmp-session: the chunk stream after the handshake the harness sends.
        static void Command(ChunkStream w, uint streamId, params object?[] values) =>
            w.Message(3, RtmpMessageType.CommandAmf0, streamId, 0, Amf(values));

        Seed("rtmp-session", "publish-and-unpublish", Chunks(w =>
        {
            Command(w, 0, ConnectArguments());
            w.Message(2, RtmpMessageType.SetChunkSize, 0, 0, UInt32(4096));
            w.ChunkSize = 4096;
            Command(w, 0, "releaseStream", 2.0, null, Targets.RtmpSessionTarget.Key);
            Command(w, 0, "FCPublish", 3.0, null, Targets.RtmpSessionTarget.Key);
            Command(w, 0, "createStream", 4.0, null);
            Command(w, 1, "publish", 5.0, null, Targets.RtmpSessionTarget.Key + "?token=x", "live");
            w.Message(4, RtmpMessageType.DataAmf0, 1, 0, Amf("@setDataFrame", "onMetaData", Metadata()));
            w.Message(6, RtmpMessageType.Video, 1, 0, [0x17, 0x00, 0, 0, 0, .. AvcC]);
            w.Message(4, RtmpMessageType.Audio, 1, 0, [0xAF, 0x00, .. Asc]);
            for (uint i = 0; i < 3; i++)
            {
                w.Message(6, RtmpMessageType.Video, 1, i * 40, [(byte)(i == 0 ? 0x17 : 0x27), 0x01, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88]);
                w.Message(4, RtmpMessageType.Audio, 1, i * 40, [0xAF, 0x01, 0x21, 0x10, 0x04]);
            }

            Command(w, 0, "FCUnpublish", 6.0, null, Targets.RtmpSessionTarget.Key);
            Command(w, 0, "deleteStream", 7.0, null, 1.0);
        }));
        Seed("rtmp-session", "bad-key", Chunks(w =>
        {
            Command(w, 0, ConnectArguments());
            Command(w, 0, "createStream", 2.0, null);
            Command(w, 1, "publish", 3.0, null, "not-the-key", "live");
        }));
        Seed("rtmp-session", "play", Chunks(w =>
        {
            Command(w, 0, ConnectArguments());
            Command(w, 0, "createStream", 2.0, null);
            Command(w, 1, "play", 3.0, null, "cam1");
        }));
        Seed("rtmp-session", "command-before-connect", Chunks(w => Command(w, 0, "createStream", 1.0, null)));
        Seed("rtmp-session", "ping-ack-unknown-amf3", Chunks(w =>
        {
            Command(w, 0, ConnectArguments());
            w.Message(2, RtmpMessageType.WindowAcknowledgementSize, 0, 0, UInt32(64));
            w.Message(2, RtmpMessageType.UserControl, 0, 0, [0, 6, 0, 0, 0, 42]);
            w.Message(3, RtmpMessageType.CommandAmf3, 0, 0, [0, .. Amf("getStreamLength", 9.0, null, "x")]);
            w.Message(3, RtmpMessageType.CommandAmf0, 0, 0, Amf("connect", 10.0, new Amf0Object()));
        }));

        // amf0: a message body.
        Seed("amf0", "connect", Amf(ConnectArguments()));
        Seed("amf0", "onmetadata-every-type", Amf("@setDataFrame", "onMetaData", Metadata()));
        Seed("amf0", "long-string", [0x0C, .. UInt32(300), .. Enumerable.Repeat((byte)'x', 300)]);
        Seed("amf0", "too-deep", [0x03, .. Enumerable.Repeat<byte[]>([0x00, 0x01, (byte)'a', 0x03], 33).SelectMany(b => b), 0x00, 0x01, (byte)'a', 0x05]);
        Seed("amf0", "truncated-string", [0x02, 0x00, 0x0A, (byte)'a', (byte)'b', (byte)'c']);
        Seed("amf0", "strict-array-huge-count", [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05, 0x05]);
        Seed("amf0", "invalid-utf8-and-date", [0x02, 0x00, 0x03, 0xC3, 0x28, 0xFF, 0x0B, 0x42, 0x78, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0x06]);

        // flv: FLV tags (the file header is optional).
        Seed("flv", "enhanced-avc1-and-aac", [.. FlvHeader(), .. Tag(9, 0, [0x90, .. "avc1"u8, .. AvcC]), .. Tag(8, 0, [0xAF, 0x00, .. Asc]),
            .. Tag(9, 40, [0x91, .. "avc1"u8, 0xFF, 0xFF, 0xF6, 0, 0, 0, 2, 0x65, 0x88]), .. Tag(9, 80, [0xA3, .. "avc1"u8, 0, 0, 0, 2, 0x41, 0x9A]),
            .. Tag(8, 64, [0xAF, 0x01, 0x21, 0x10]), .. Tag(9, 120, [0x17, 0x02, 0, 0, 0])]);
        Seed("flv", "unsupported-hevc", [.. Tag(9, 0, [0x90, .. "hvc1"u8, 1, 2, 3])]);
        Seed("flv", "mp3-command-frame-metadata", [.. Tag(8, 0, [0x2F, 0xFF, 0xFB]), .. Tag(9, 0, [0x50, 0x00]), .. Tag(18, 0, Amf("@setDataFrame", "onMetaData", Metadata()))]);
        Seed("flv", "timestamps-wrap", [.. Tag(9, 0, [0x17, 0x00, 0, 0, 0, .. AvcC]), .. Tag(9, 0xFFFFFFF0, [0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65]),
            .. Tag(9, 0x00000010, [0x27, 0x01, 0x80, 0, 0, 0, 0, 0, 1, 0x41])]);
        Seed("flv", "truncated-tags", [.. Tag(9, 0, [0x17]), 0x08, 0x00, 0x10]);

        // http-head: bytes as they arrive on the socket.
        Seed("http-head", "get-part", Encoding.ASCII.GetBytes("GET /live/demo/video_12.m4s?_HLS_msn=12&_HLS_part=3 HTTP/1.1\r\nHost: origin:8080\r\nAccept-Encoding: gzip, br;q=0\r\nIf-None-Match: W/\"abc\", \"0123abcd\"\r\nConnection: keep-alive\r\n\r\n"));
        Seed("http-head", "head-range-edge", Encoding.ASCII.GetBytes("HEAD /vod/abc/video/seg_1.m4s HTTP/1.1\r\nhost: x\r\nRange: bytes=100-\r\nIf-Range: \"e\"\r\nVia: 1.1 streamverse-edge\r\nOrigin: https://player\r\nConnection: close\r\n\r\n"));
        Seed("http-head", "pipelined", Encoding.ASCII.GetBytes("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"));
        Seed("http-head", "hand-over", Encoding.ASCII.GetBytes("POST /api HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"));
        Seed("http-head", "dot-segment-obs-fold", Encoding.ASCII.GetBytes("GET /live/../x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"));
        Seed("http-head", "incomplete", Encoding.ASCII.GetBytes("GET /live/demo/index.m3u8 HTTP/1.1\r\nHost: h\r\n"));

        // http-range: byte 0 = object size (or, with bit 7, 8 more bytes of it); then the Range value.
        Seed("http-range", "first-last", [100, .. "bytes=0-49"u8]);
        Seed("http-range", "open-ended", [100, .. "bytes=50-"u8]);
        Seed("http-range", "suffix", [100, .. "bytes=-10"u8]);
        Seed("http-range", "unsatisfiable", [10, .. "bytes=10-20"u8]);
        Seed("http-range", "huge-object-huge-numbers", [0x80, .. Int64(long.MaxValue), .. "bytes=9223372036854775806-99999999999999999999"u8]);
        Seed("http-range", "multiple-and-spaces", [100, .. "BYTES= 1 - 2 ,3-4"u8]);

        // cache-policy: bytes 0-3 = Age in seconds; then the Cache-Control value.
        Seed("cache-policy", "segment", [0, 0, 0, 5, .. "public, max-age=60, immutable"u8]);
        Seed("cache-policy", "playlist-stale-if-error", [0, 0, 0, 0, .. "max-age=1, s-maxage=2, stale-if-error=\"30\""u8]);
        Seed("cache-policy", "no-store", [0, 0, 0, 0, .. "No-Store, max-age=60"u8]);
        Seed("cache-policy", "huge-and-age-over", [0x7F, 0xFF, 0xFF, 0xFF, .. "max-age=99999999999999999999999"u8]);
        Seed("cache-policy", "long-rewritten", [0, 0, 0, 1, .. Encoding.ASCII.GetBytes("max-age=3600, stale-if-error=10, x-" + new string('a', 300))]);

        // cmcd: byte 0 = source (bit 0: query, else header; bit 1: the rest again as a header); then the query or value.
        Seed("cmcd", "spec-query", [0x01, .. "CMCD=bl%3D21300%2Cbr%3D3200%2Cbs%2Ccid%3D%22faec5fc2-ac30-11ea-bb37-0242ac130002%22%2Cd%3D4004%2Cdl%3D18500%2Cmtp%3D48100%2Cnor%3D%22..%252F300kbps%252Ftrack.m4v%22%2Cnrr%3D%2212323-48763%22%2Cot%3Dv%2Cpr%3D1.08%2Crtp%3D12000%2Csf%3Dd%2Csid%3D%226e2fb550-c457-11e9-bb97-0800200c9a66%22%2Cst%3Dv%2Csu%2Ctb%3D6000"u8]);
        Seed("cmcd", "spec-session-header", [0x00, .. "cid=\"faec5fc2-ac30-11ea-bb37-0242ac130002\",pr=1.08,sf=d,sid=\"6e2fb550-c457-11e9-bb97-0800200c9a66\",st=v"u8]);
        Seed("cmcd", "hls-query-with-ll-hls", [0x01, .. "_HLS_msn=12&_HLS_part=3&CMCD=bl%3D3000%2Cbr%3D1200%2Cmtp%3D9000%2Cot%3Dv%2Csf%3Dh%2Csid%3D%22a%22%2Cst%3Dl%2Csu%2Ctb%3D1200"u8]);
        Seed("cmcd", "garbage-escapes-open-string-inner-list", [0x03, .. "CMCD=%zz%2C%E2%80%AEbr=(1 2),sid=\"open,bl=-1,bs=?1,pr=1.2345,v=99999999999999999"u8]);

        // caption-text: a whole caption file.
        Seed("caption-text", "webvtt", "WEBVTT\n\nNOTE x\n\nid\n00:01.000 --> 00:02.500 align:start\n<v A>Hi</v> &amp;\n"u8.ToArray());
        Seed("caption-text", "subrip-crlf-bom", [0xEF, 0xBB, 0xBF, .. "1\r\n00:00:01,000 --> 00:00:02,000\r\n<font color=\"red\">a</font> & <i>b</i>\r\n\r\n"u8]);
        Seed("caption-text", "subrip-no-counter-ass-override", "00:00:01,000 --> 00:00:02,000 X1:1\n{\\an8}top a<b\n"u8.ToArray());
        Seed("caption-text", "webvtt-end-before-start", "WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nx\n"u8.ToArray());

        // tus-headers: one header value, given to every tus header parser.
        Seed("tus-headers", "length", "1048576"u8.ToArray());
        Seed("tus-headers", "metadata", "videoId dmlkMQ==,filename bXkgdmlkZW8ubXA0,is_public"u8.ToArray());
        Seed("tus-headers", "checksum", "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="u8.ToArray());
        Seed("tus-headers", "metadata-duplicate-and-bad-base64", "a YQ==,a YQ==, b !!!"u8.ToArray());
        Seed("tus-headers", "length-overflow", "99999999999999999999"u8.ToArray());

        // playback-path: byte 0 = mode (bit 0: a valid token in front); then the path or what follows the token.
        Seed("playback-path", "valid-live", [0x09, .. "vid1/index.m3u8"u8]);
        Seed("playback-path", "valid-vod-premium-ip-bound", [0x2F, .. "vid1/720p/seg_1.m4s"u8]);
        Seed("playback-path", "valid-token-other-video", [0x01, .. "vid2/index.m3u8"u8]);
        Seed("playback-path", "no-token", [0x00, .. "/live/demo/index.m3u8"u8]);
        Seed("playback-path", "empty-token-segment", [0x00, .. "/vod/t//vid1/index.mpd"u8]);
        Seed("playback-path", "garbage-token", [0x08, .. "/live/t/AQAAAAAA7msoAARmdXp6/vid1/x"u8]);
    }

    private static object?[] ConnectArguments() =>
    [
        "connect", 1.0,
        new Amf0Object().Add("app", "live").Add("type", "nonprivate").Add("flashVer", "FMLE/3.0 (compatible; FMSc/1.0)")
            .Add("tcUrl", "rtmp://127.0.0.1:1935/live").Add("objectEncoding", 0.0),
    ];

    private static Amf0Object Metadata() => new Amf0Object(isEcmaArray: true)
        .Add("width", 1280.0).Add("height", 720.0).Add("framerate", 30.0).Add("stereo", true).Add("encoder", "Lavf59.27.100")
        .Add("levels", new List<object?> { 1.0, "two", null, Amf0Undefined.Value }).Add("created", new Amf0Date(1.7e12, 0))
        .Add("nested", new Amf0Object().Add("x", double.NaN));

    private static byte[] Amf(params object?[] values)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var value in values)
        {
            Amf0Writer.WriteValue(output, value);
        }

        return output.WrittenSpan.ToArray();
    }

    private static byte[] Chunks(Action<ChunkStream> write)
    {
        var stream = new ChunkStream();
        write(stream);
        return stream.Output.WrittenSpan.ToArray();
    }

    private static byte[] FlvHeader() => [.. "FLV"u8, 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0];

    private static byte[] Tag(byte type, uint timestamp, byte[] body)
    {
        var tag = new byte[11 + body.Length + 4];
        tag[0] = type;
        tag[1] = (byte)(body.Length >> 16);
        tag[2] = (byte)(body.Length >> 8);
        tag[3] = (byte)body.Length;
        tag[4] = (byte)(timestamp >> 16);
        tag[5] = (byte)(timestamp >> 8);
        tag[6] = (byte)timestamp;
        tag[7] = (byte)(timestamp >> 24);
        body.CopyTo(tag, 11);
        BinaryPrimitives.WriteUInt32BigEndian(tag.AsSpan(11 + body.Length), (uint)(11 + body.Length));
        return tag;
    }

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Int64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    private sealed class ChunkStream
    {
        private readonly RtmpChunkWriter _writer = new();

        public ArrayBufferWriter<byte> Output { get; } = new();

        public int ChunkSize
        {
            set => _writer.ChunkSize = value;
        }

        public void Message(int csid, byte type, uint streamId, uint timestamp, byte[] payload) => _writer.Write(Output, csid, type, streamId, timestamp, payload);

        public void Raw(ReadOnlySpan<byte> bytes) => Output.Write(bytes);
    }
}
