using System.Reflection;
using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

/// <summary>
/// Loads Debian's FFmpeg 5.1 libraries by their versioned sonames and refuses to run against any other
/// ABI: the struct mirrors in <see cref="AVFrame"/> etc. are only proven for these versions.
/// </summary>
internal static class LibAv
{
    // (import name, soname, expected major, minimum minor = the headers the mirrors were proven against)
    private static readonly (string Import, string SoName, int Major, int MinMinor)[] Libraries =
    [
        (LibAvUtil.Name, "libavutil.so.57", 57, 28),
        (LibAvCodec.Name, "libavcodec.so.59", 59, 37),
        (LibAvFormat.Name, "libavformat.so.59", 59, 27),
        (LibSwScale.Name, "libswscale.so.6", 6, 7),
        (LibSwResample.Name, "libswresample.so.4", 4, 7),
    ];

    private static readonly Lock Gate = new();
    private static bool _initialized;

    /// <summary>Installs the resolver once and checks every library's version; throws on a mismatch.</summary>
    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(LibAv).Assembly, Resolve);
            CheckVersions();
            _initialized = true;
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        foreach (var lib in Libraries)
        {
            if (lib.Import == libraryName)
            {
                if (NativeLibrary.TryLoad(lib.SoName, assembly, searchPath, out var handle))
                {
                    return handle;
                }

                throw new DllNotFoundException(
                    $"MediaCore needs {lib.SoName} (FFmpeg 5.1, Debian 12 package of the same name). Install ffmpeg's libraries: apt-get install ffmpeg.");
            }
        }

        return 0;
    }

    private static void CheckVersions()
    {
        var problem = Mismatch(
        [
            LibAvUtil.avutil_version(),
            LibAvCodec.avcodec_version(),
            LibAvFormat.avformat_version(),
            LibSwScale.swscale_version(),
            LibSwResample.swresample_version(),
        ]);
        if (problem is not null)
        {
            throw new NotSupportedException(problem);
        }
    }

    /// <summary>The refusal message for these AV_VERSION_INT values (avutil, avcodec, avformat, swscale, swresample), or null.</summary>
    internal static string? Mismatch(ReadOnlySpan<uint> found)
    {
        var problems = new List<string>();
        for (var i = 0; i < Libraries.Length; i++)
        {
            var (_, soName, major, minMinor) = Libraries[i];
            var foundMajor = (int)(found[i] >> 16);
            var foundMinor = (int)((found[i] >> 8) & 0xFF);
            if (foundMajor != major || foundMinor < minMinor)
            {
                problems.Add($"{soName}: found {foundMajor}.{foundMinor}.{found[i] & 0xFF}, need {major}.>={minMinor}");
            }
        }

        return problems.Count == 0
            ? null
            : "MediaCore is bound to FFmpeg 5.1 (Debian 12) and refuses to run against other libav versions, whose struct layouts differ: "
                + string.Join("; ", problems);
    }

    /// <summary>Version strings for diagnostics, e.g. "avcodec 59.37.100".</summary>
    public static IReadOnlyList<string> Versions()
    {
        EnsureInitialized();
        static string V(string n, uint v) => $"{n} {v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF}";
        return
        [
            V("avutil", LibAvUtil.avutil_version()),
            V("avcodec", LibAvCodec.avcodec_version()),
            V("avformat", LibAvFormat.avformat_version()),
            V("swscale", LibSwScale.swscale_version()),
            V("swresample", LibSwResample.swresample_version()),
        ];
    }
}
