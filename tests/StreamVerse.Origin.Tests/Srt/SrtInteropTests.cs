using System.Globalization;
using System.Text;
using StreamVerse.Origin.Srt;
using StreamVerse.Tests.Shared;

namespace StreamVerse.Origin.Tests.Srt;

/// <summary>
/// Proves the constants and the SRT_TRACEBSTATS offsets <see cref="LibSrt"/> copied from srt.h against the installed
/// header (libsrt-openssl-dev): compiles a C probe with gcc and runs it; and that the loaded library is the 1.5 it checks for.
/// </summary>
public sealed class SrtInteropTests
{
    private static readonly (string Expr, long Value)[] Expected =
    [
        ("SRTO_RCVSYN", LibSrt.OptRcvSyn),
        ("SRTO_SNDSYN", LibSrt.OptSndSyn),
        ("SRTO_PASSPHRASE", LibSrt.OptPassphrase),
        ("SRTO_RCVLATENCY", LibSrt.OptRcvLatency),
        ("SRTO_STREAMID", LibSrt.OptStreamId),
        ("SRT_EPOLL_IN", LibSrt.EpollIn),
        ("SRT_EPOLL_ERR", LibSrt.EpollErr),
        ("SRT_EASYNCRCV", LibSrt.ErrorAsyncReceive),
        ("SRTS_CONNECTED", LibSrt.StateConnected),
        ("SRT_ERROR", LibSrt.Error),
        ("SRT_INVALID_SOCK", LibSrt.InvalidSocket),
        ("SRT_REJX_BAD_REQUEST", SrtRejectReasons.BadRequest),
        ("SRT_REJX_UNAUTHORIZED", SrtRejectReasons.Unauthorized),
        ("SRT_REJX_OVERLOAD", SrtRejectReasons.Overload),
        ("SRT_REJX_FORBIDDEN", SrtRejectReasons.Forbidden),
        ("SRT_REJX_BAD_MODE", SrtRejectReasons.BadMode),
        ("SRT_REJX_NOTSUP_MEDIA", SrtRejectReasons.NotSupportedMedia),
        ("SRT_REJX_ISE", SrtRejectReasons.InternalError),
        ("sizeof(SRT_TRACEBSTATS)", LibSrt.TraceBStatsSize),
        ("sizeof(SRT_EPOLL_EVENT)", 8),
        ("offsetof(SRT_TRACEBSTATS, pktRecvTotal)", LibSrt.OffsetPktRecvTotal),
        ("offsetof(SRT_TRACEBSTATS, pktRcvLossTotal)", LibSrt.OffsetPktRcvLossTotal),
        ("offsetof(SRT_TRACEBSTATS, pktRcvDropTotal)", LibSrt.OffsetPktRcvDropTotal),
        ("offsetof(SRT_TRACEBSTATS, byteRecvTotal)", LibSrt.OffsetByteRecvTotal),
        ("offsetof(SRT_TRACEBSTATS, pktRcvRetrans)", LibSrt.OffsetPktRcvRetrans),
        ("offsetof(SRT_TRACEBSTATS, mbpsRecvRate)", LibSrt.OffsetMbpsRecvRate),
        ("sizeof(((SRT_TRACEBSTATS*)0)->pktRecvTotal)", 8),
        ("sizeof(((SRT_TRACEBSTATS*)0)->pktRcvLossTotal)", 4),
        ("sizeof(((SRT_TRACEBSTATS*)0)->pktRcvDropTotal)", 4),
        ("sizeof(((SRT_TRACEBSTATS*)0)->pktRcvRetrans)", 4),
        ("sizeof(((SRT_TRACEBSTATS*)0)->mbpsRecvRate)", 8),
    ];

    [Fact]
    public void Constants_and_offsets_match_the_installed_header()
    {
        var c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <srt/srt.h>\n#include <srt/access_control.h>\nint main(void) {\n");
        foreach (var (expr, _) in Expected)
        {
            c.Append(CultureInfo.InvariantCulture, $"  printf(\"%lld\\n\", (long long)({expr}));\n");
        }

        c.Append("  return 0;\n}\n");
        var dir = Directory.CreateTempSubdirectory("sv-srt-probe-").FullName;
        var source = Path.Combine(dir, "probe.c");
        var exe = Path.Combine(dir, "probe");
        File.WriteAllText(source, c.ToString());
        var build = TestProcesses.Run(TimeSpan.FromSeconds(120), "gcc", "-std=c11", "-o", exe, source);
        Assert.True(build.ExitCode == 0, "install libsrt-openssl-dev (./setup.sh deps): " + build.StdErr);
        var run = TestProcesses.Run(TimeSpan.FromSeconds(30), exe);
        var values = run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToList();
        var mismatches = Expected.Select((e, i) => (e, native: values[i])).Where(x => x.e.Value != x.native).Select(x => $"{x.e.Expr}: C {x.native}, C# {x.e.Value}").ToList();
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void The_loaded_library_is_libsrt_1_5()
    {
        LibSrt.EnsureVersion();
        Assert.Equal(LibSrt.ExpectedMajorMinor, LibSrt.GetVersion() >> 8);
    }
}
