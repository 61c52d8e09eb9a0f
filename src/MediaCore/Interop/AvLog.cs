using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace StreamVerse.MediaCore.Interop;

/// <summary>
/// Routes every av_log line into one <see cref="ILogger"/>. av_log's callback carries no user pointer, so
/// the logger lives in a static (the one process-wide place libav logs to), not in a GCHandle.
/// </summary>
internal static unsafe partial class AvLog
{
    private const int LineSize = 1024;

    // AV_LOG_* levels (libavutil/log.h).
    private const int Panic = 0;
    private const int Error = 16;
    private const int Warning = 24;
    private const int Info = 32;
    private const int Verbose = 40;
    private const int Debug = 48;

    private static ILogger? _logger;

    // av_log_format_line2 keeps "print the [component @ ptr] prefix" state between calls on a thread.
    [ThreadStatic]
    private static int _printPrefix;

    /// <summary>Installs the callback; <paramref name="level"/> is the most verbose AV_LOG level forwarded.</summary>
    public static void Install(ILogger logger, int level = Info)
    {
        LibAv.EnsureInitialized();
        _logger = logger;
        LibAvUtil.av_log_set_level(level);
        LibAvUtil.av_log_set_callback(&OnLog);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(void* avcl, int level, byte* fmt, nint vl)
    {
        // Called on whichever libav thread logged: never throw back into C.
        try
        {
            var logger = _logger;
            var logLevel = Map(level);
            if (logger is null || !logger.IsEnabled(logLevel))
            {
                return;
            }

            // Owned by this frame: av_log_format_line2 writes at most LineSize bytes including the NUL.
            var line = stackalloc byte[LineSize];
            var printPrefix = _printPrefix == 0 ? 1 : _printPrefix;
            LibAvUtil.av_log_format_line2(avcl, level, fmt, vl, line, LineSize, &printPrefix);
            _printPrefix = printPrefix;
            var text = Marshal.PtrToStringUTF8((nint)line)?.TrimEnd('\n', '\r');
            if (!string.IsNullOrWhiteSpace(text))
            {
                Log.Line(logger, logLevel, text);
            }
        }
        catch (Exception)
        {
            // A failing logger must not unwind through native frames.
        }
    }

    private static LogLevel Map(int level) => level switch
    {
        <= Panic => LogLevel.Critical,
        <= Error => LogLevel.Error,
        <= Warning => LogLevel.Warning,
        <= Info => LogLevel.Information,
        <= Verbose => LogLevel.Debug,
        <= Debug => LogLevel.Debug,
        _ => LogLevel.Trace,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Message = "libav: {Line}")]
        public static partial void Line(ILogger logger, LogLevel level, string line);
    }
}
