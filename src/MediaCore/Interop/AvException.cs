using System.Runtime.InteropServices;
using System.Text;

namespace StreamVerse.MediaCore.Interop;

/// <summary>A negative AVERROR from libav, with av_strerror's text.</summary>
public sealed class AvException : Exception
{
    public AvException()
    {
    }

    public AvException(string message)
        : base(message)
    {
    }

    public AvException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal AvException(string operation, int error)
        : base($"{operation}: {AvError.Describe(error)} (AVERROR {error})")
    {
        ErrorCode = error;
    }

    /// <summary>The negative AVERROR code, 0 when the error did not come from libav.</summary>
    public int ErrorCode { get; }
}

internal static class AvError
{
    public const int EAgain = -11; // AVERROR(EAGAIN) on Linux
    public const int EInval = -22; // AVERROR(EINVAL) on Linux
    public const int Eof = -0x20464F45; // AVERROR_EOF = -MKTAG('E','O','F',' ')
    public const int InvalidData = -0x41444E49; // AVERROR_INVALIDDATA = -MKTAG('I','N','D','A')

    /// <summary>Throws for a negative result; returns it otherwise.</summary>
    public static int Check(int result, string operation) =>
        result < 0 ? throw new AvException(operation, result) : result;

    /// <summary>For send/receive loops: EAGAIN and EOF are results, not failures.</summary>
    public static bool IsAgainOrEof(int result) => result is EAgain or Eof;

    public static unsafe string Describe(int error)
    {
        // Owned by this frame: a stack buffer that av_strerror fills and NUL-terminates.
        var buffer = stackalloc byte[256];
        if (LibAvUtil.av_strerror(error, buffer, 256) < 0)
        {
            return $"unknown error {error}";
        }

        return Marshal.PtrToStringUTF8((nint)buffer) ?? string.Empty;
    }
}

/// <summary>NUL-terminated UTF-8 for libav's <c>const char*</c> parameters.</summary>
internal static class Utf8Z
{
    public static byte[] Get(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    /// <summary>Copies a libav-owned C string (which stays libav's) into a managed string.</summary>
    public static unsafe string? Read(byte* value) => value == null ? null : Marshal.PtrToStringUTF8((nint)value);
}
