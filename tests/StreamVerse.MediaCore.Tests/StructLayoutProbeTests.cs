using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Tests.Infrastructure;

namespace StreamVerse.MediaCore.Tests;

/// <summary>
/// Proves every mirrored field's offset and size, and every constant we copied from a header, against the
/// installed FFmpeg headers: writes a C probe, compiles it with gcc and `pkg-config --cflags`, runs it.
/// </summary>
public sealed class StructLayoutProbeTests
{
    // Constants copied from headers: (C expression, our value).
    private static readonly (string Expr, long Value)[] Constants =
    [
        ("AV_NOPTS_VALUE", LibAvUtil.NoPtsValue),
        ("AV_TIME_BASE", LibAvUtil.TimeBase),
        ("AV_OPT_SEARCH_CHILDREN", LibAvUtil.OptSearchChildren),
        ("AV_PKT_FLAG_KEY", LibAvCodec.PacketFlagKey),
        ("AV_PICTURE_TYPE_I", LibAvCodec.PictureTypeI),
        ("AV_PICTURE_TYPE_NONE", LibAvCodec.PictureTypeNone),
        ("AVSEEK_FLAG_BACKWARD", LibAvFormat.SeekFlagBackward),
        ("AVSEEK_FLAG_ANY", LibAvFormat.SeekFlagAny),
        ("AV_PKT_DATA_DISPLAYMATRIX", LibAvFormat.PacketSideDataDisplayMatrix),
        ("AV_DISPOSITION_ATTACHED_PIC", LibAvFormat.DispositionAttachedPic),
        ("AV_DISPOSITION_DEFAULT", LibAvFormat.DispositionDefault),
        ("SWS_BICUBIC", LibSwScale.Bicubic),
        ("SWS_AREA", LibSwScale.Area),
        ("AVERROR(EAGAIN)", AvError.EAgain),
        ("AVERROR_EOF", AvError.Eof),
        ("AVERROR_INVALIDDATA", AvError.InvalidData),
        ("AVMEDIA_TYPE_VIDEO", (long)AVMediaType.Video),
        ("AVMEDIA_TYPE_AUDIO", (long)AVMediaType.Audio),
        ("AV_LOG_INFO", 32),
        ("AV_LOG_ERROR", 16),
        ("AV_LOG_WARNING", 24),
    ];

    [Fact]
    public void Mirrored_offsets_sizes_and_constants_match_the_installed_headers()
    {
        var mirrors = MirroredFields().ToList();
        Assert.True(mirrors.Count >= 50, $"expected the full mirror table, found {mirrors.Count} fields");

        var c = new StringBuilder();
        c.Append("""
            #include <stdio.h>
            #include <stddef.h>
            #include <errno.h>
            #include <libavformat/avformat.h>
            #include <libavcodec/avcodec.h>
            #include <libavutil/opt.h>
            #include <libavutil/channel_layout.h>
            #include <libswscale/swscale.h>
            #include <libswresample/swresample.h>
            int main(void) {

            """);
        foreach (var (cStruct, cField, _, _) in mirrors)
        {
            c.Append(CultureInfo.InvariantCulture,
                $"  printf(\"{cStruct}.{cField} %zu %zu\\n\", offsetof({cStruct}, {cField}), sizeof((({cStruct}*)0)->{cField}));\n");
        }

        foreach (var (expr, _) in Constants)
        {
            c.Append(CultureInfo.InvariantCulture, $"  printf(\"const {expr} %lld\\n\", (long long)({expr}));\n");
        }

        c.Append("  return 0;\n}\n");

        var dir = Directory.CreateTempSubdirectory("sv-layout-probe-").FullName;
        var source = Path.Combine(dir, "probe.c");
        var exe = Path.Combine(dir, "probe");
        File.WriteAllText(source, c.ToString());
        var cflags = Tools.MustRun("pkg-config", "--cflags", "libavformat", "libavcodec", "libavutil", "libswscale", "libswresample")
            .StdOut.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Tools.MustRun("gcc", ["-std=c11", "-Wno-deprecated-declarations", .. cflags, "-o", exe, source]);
        var output = Tools.MustRun(exe).StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var native = output.Where(l => !l.StartsWith("const ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => (Offset: int.Parse(p[1], CultureInfo.InvariantCulture), Size: int.Parse(p[2], CultureInfo.InvariantCulture)));
        var mismatches = new List<string>();
        foreach (var (cStruct, cField, offset, size) in mirrors)
        {
            var n = native[$"{cStruct}.{cField}"];
            if (n.Offset != offset || n.Size != size)
            {
                mismatches.Add($"{cStruct}.{cField}: C offset {n.Offset} size {n.Size}, C# offset {offset} size {size}");
            }
        }

        var constants = output.Where(l => l.StartsWith("const ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[1], p => long.Parse(p[2], CultureInfo.InvariantCulture));
        foreach (var (expr, value) in Constants)
        {
            if (constants[expr] != value)
            {
                mismatches.Add($"{expr}: C {constants[expr]}, C# {value}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void Version_check_accepts_the_installed_libraries()
    {
        var versions = LibAv.Versions();
        Assert.Contains(versions, v => v.StartsWith("avcodec 59.", StringComparison.Ordinal));
        Assert.Contains(versions, v => v.StartsWith("avformat 59.", StringComparison.Ordinal));
        Assert.Contains(versions, v => v.StartsWith("avutil 57.", StringComparison.Ordinal));
        Assert.Contains(versions, v => v.StartsWith("swscale 6.", StringComparison.Ordinal));
        Assert.Contains(versions, v => v.StartsWith("swresample 4.", StringComparison.Ordinal));
    }

    [Fact]
    public void Version_check_refuses_other_abis_with_a_clear_message()
    {
        static uint V(int major, int minor, int micro) => (uint)((major << 16) | (minor << 8) | micro);
        Assert.Null(LibAv.Mismatch([V(57, 28, 100), V(59, 37, 100), V(59, 27, 100), V(6, 7, 100), V(4, 7, 100)]));

        // FFmpeg 6.0 (avcodec 60) and an older 5.0 avutil (57.17, before AVFrame.ch_layout) are both refused.
        var message = LibAv.Mismatch([V(57, 17, 100), V(60, 3, 100), V(59, 27, 100), V(6, 7, 100), V(4, 7, 100)]);
        Assert.NotNull(message);
        Assert.Contains("FFmpeg 5.1", message, StringComparison.Ordinal);
        Assert.Contains("libavcodec.so.59: found 60.3.100, need 59.>=37", message, StringComparison.Ordinal);
        Assert.Contains("libavutil.so.57: found 57.17.100, need 57.>=28", message, StringComparison.Ordinal);
        Assert.DoesNotContain("libavformat", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_carry_av_strerror_text()
    {
        LibAv.EnsureInitialized();
        var ex = Assert.Throws<AvException>(() => AvError.Check(AvError.InvalidData, "decode"));
        Assert.Contains("Invalid data found when processing input", ex.Message, StringComparison.Ordinal);
        Assert.Equal(AvError.InvalidData, ex.ErrorCode);
        Assert.True(AvError.IsAgainOrEof(AvError.EAgain));
        Assert.True(AvError.IsAgainOrEof(AvError.Eof));
    }

    private static IEnumerable<(string Struct, string Field, int Offset, int Size)> MirroredFields()
    {
        var sizeOf = typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!;
        foreach (var type in typeof(LibAv).Assembly.GetTypes())
        {
            var s = type.GetCustomAttribute<NativeStructAttribute>();
            if (s is null)
            {
                continue;
            }

            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                var f = field.GetCustomAttribute<NativeFieldAttribute>();
                if (f is null)
                {
                    continue;
                }

                var offset = (int)Marshal.OffsetOf(type, field.Name);
                var size = field.FieldType.IsPointer ? IntPtr.Size : (int)sizeOf.MakeGenericMethod(field.FieldType).Invoke(null, null)!;
                yield return (s.Name, f.Name, offset, size);
            }
        }
    }
}
