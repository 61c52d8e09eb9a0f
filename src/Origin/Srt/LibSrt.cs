using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace StreamVerse.Origin.Srt;

/// <summary>
/// The parts of libsrt 1.5 (Debian 12's <c>libsrt1.5-openssl</c>, <c>libsrt.so.1.5</c>) the SRT ingest uses, bound by
/// hand as MediaCore binds libav: blittable <c>[LibraryImport]</c> signatures, the versioned soname, a version check at
/// start. Socket and epoll ids are plain ints in libsrt; <see cref="SrtSocketHandle"/> and <see cref="SrtEpollHandle"/> own
/// them. Every call is thread-safe in libsrt (it locks per socket).
/// </summary>
internal static unsafe partial class LibSrt
{
    public const string Name = "libsrt.so.1.5";

    public const int Error = -1;
    public const int InvalidSocket = -1;

    // SRT_SOCKOPT (srt.h; values proven by SrtInteropTests against the installed header).
    public const int OptRcvSyn = 2;
    public const int OptSndSyn = 1;
    public const int OptPassphrase = 26;
    public const int OptRcvLatency = 43;
    public const int OptStreamId = 46;

    // SRT_EPOLL_OPT
    public const int EpollIn = 0x1;
    public const int EpollErr = 0x8;

    /// <summary>SRT_EASYNCRCV: nothing to read now on a non-blocking socket.</summary>
    public const int ErrorAsyncReceive = 6002;

    /// <summary>SRT_EASYNCRCV's sibling for accept: no connection pending.</summary>
    public const int ErrorAsyncAccept = 6002;

    // SRT_SOCKSTATUS
    public const int StateConnected = 5;

    /// <summary>sizeof(SRT_TRACEBSTATS) and the offsets of the fields health reads (proven by SrtInteropTests).</summary>
    public const int TraceBStatsSize = 496;
    public const int OffsetPktRecvTotal = 16;
    public const int OffsetPktRcvLossTotal = 28;
    public const int OffsetPktRcvDropTotal = 68;
    public const int OffsetByteRecvTotal = 88;
    public const int OffsetPktRcvRetrans = 164;
    public const int OffsetMbpsRecvRate = 192;

    /// <summary>The major.minor this binding was written against: 1.5 (<c>srt_getversion</c> is 0x00MMmmpp).</summary>
    public const uint ExpectedMajorMinor = 0x0105;

    [LibraryImport(Name, EntryPoint = "srt_startup")]
    public static partial int Startup();

    [LibraryImport(Name, EntryPoint = "srt_cleanup")]
    public static partial int Cleanup();

    [LibraryImport(Name, EntryPoint = "srt_getversion")]
    public static partial uint GetVersion();

    [LibraryImport(Name, EntryPoint = "srt_create_socket")]
    public static partial int CreateSocket();

    [LibraryImport(Name, EntryPoint = "srt_bind")]
    public static partial int Bind(int socket, byte* address, int addressLength);

    [LibraryImport(Name, EntryPoint = "srt_listen")]
    public static partial int Listen(int socket, int backlog);

    [LibraryImport(Name, EntryPoint = "srt_listen_callback")]
    public static partial int ListenCallback(int socket, delegate* unmanaged[Cdecl]<nint, int, int, byte*, byte*, int> hook, nint opaque);

    [LibraryImport(Name, EntryPoint = "srt_setrejectreason")]
    public static partial int SetRejectReason(int socket, int reason);

    [LibraryImport(Name, EntryPoint = "srt_accept")]
    public static partial int Accept(int socket, byte* address, int* addressLength);

    [LibraryImport(Name, EntryPoint = "srt_close")]
    public static partial int Close(int socket);

    [LibraryImport(Name, EntryPoint = "srt_setsockflag")]
    public static partial int SetSockFlag(int socket, int option, void* value, int length);

    [LibraryImport(Name, EntryPoint = "srt_getsockflag")]
    public static partial int GetSockFlag(int socket, int option, void* value, int* length);

    [LibraryImport(Name, EntryPoint = "srt_recvmsg")]
    public static partial int RecvMsg(int socket, byte* buffer, int length);

    [LibraryImport(Name, EntryPoint = "srt_getsockstate")]
    public static partial int GetSockState(int socket);

    [LibraryImport(Name, EntryPoint = "srt_getlasterror")]
    public static partial int GetLastError(int* errnoLocation);

    [LibraryImport(Name, EntryPoint = "srt_getlasterror_str")]
    public static partial byte* GetLastErrorString();

    [LibraryImport(Name, EntryPoint = "srt_bstats")]
    public static partial int BStats(int socket, byte* stats, int clear);

    [LibraryImport(Name, EntryPoint = "srt_epoll_create")]
    public static partial int EpollCreate();

    [LibraryImport(Name, EntryPoint = "srt_epoll_add_usock")]
    public static partial int EpollAddUsock(int epoll, int socket, int* events);

    [LibraryImport(Name, EntryPoint = "srt_epoll_remove_usock")]
    public static partial int EpollRemoveUsock(int epoll, int socket);

    /// <summary>Fills <c>SRT_EPOLL_EVENT { SRTSOCKET fd; int events; }</c> pairs (8 bytes each).</summary>
    [LibraryImport(Name, EntryPoint = "srt_epoll_uwait")]
    public static partial int EpollUwait(int epoll, int* events, int count, long timeoutMilliseconds);

    [LibraryImport(Name, EntryPoint = "srt_epoll_release")]
    public static partial int EpollRelease(int epoll);

    /// <summary>libsrt's text for the calling thread's last error (its own buffer, copied at once).</summary>
    public static string LastErrorText() => Marshal.PtrToStringUTF8((nint)GetLastErrorString()) ?? "unknown SRT error";

    public static int LastError() => GetLastError(null);

    /// <summary>Checks that the loaded library is libsrt 1.5; throws with what to install otherwise.</summary>
    public static void EnsureVersion()
    {
        uint version;
        try
        {
            version = GetVersion();
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException($"SRT ingest needs {Name} (Debian 12: apt-get install libsrt1.5-openssl).", e);
        }

        if (version >> 8 != ExpectedMajorMinor)
        {
            throw new InvalidOperationException(
                $"SRT ingest was written against libsrt 1.5; the loaded {Name} is {version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}.");
        }
    }

    public static void SetInt(int socket, int option, int value)
    {
        if (SetSockFlag(socket, option, &value, sizeof(int)) == Error)
        {
            throw new SrtException($"srt_setsockflag({option})");
        }
    }

    public static void SetBool(int socket, int option, bool value)
    {
        var b = (byte)(value ? 1 : 0);
        if (SetSockFlag(socket, option, &b, 1) == Error)
        {
            throw new SrtException($"srt_setsockflag({option})");
        }
    }

    public static void SetString(int socket, int option, string value)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        fixed (byte* p = bytes)
        {
            if (SetSockFlag(socket, option, p, bytes.Length) == Error)
            {
                throw new SrtException($"srt_setsockflag({option})");
            }
        }
    }

    /// <summary>A <c>sockaddr_in</c>/<c>sockaddr_in6</c> for <paramref name="endPoint"/>, in <paramref name="buffer"/> (28 bytes).</summary>
    public static int WriteSockAddr(IPEndPoint endPoint, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        buffer[..28].Clear();
        var port = (ushort)endPoint.Port;
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(buffer, 2); // AF_INET, host order (x86-64, arm64)
            buffer[2] = (byte)(port >> 8);
            buffer[3] = (byte)port;
            _ = endPoint.Address.TryWriteBytes(buffer[4..8], out _);
            return 16;
        }

        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(buffer, 10); // AF_INET6
        buffer[2] = (byte)(port >> 8);
        buffer[3] = (byte)port;
        _ = endPoint.Address.TryWriteBytes(buffer[8..24], out _);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..28], (uint)endPoint.Address.ScopeId);
        return 28;
    }

    /// <summary>The address in a <c>sockaddr</c> libsrt handed over, for logs; "?" when it is neither IPv4 nor IPv6.</summary>
    public static string ReadSockAddr(byte* address)
    {
        if (address is null)
        {
            return "?";
        }

        var family = *(ushort*)address;
        var port = (address[2] << 8) | address[3];
        return family switch
        {
            2 => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 4, 4)), port).ToString(),
            10 => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 8, 16)), port).ToString(),
            _ => "?",
        };
    }
}

/// <summary>A failed libsrt call, with libsrt's own text.</summary>
internal sealed class SrtException : Exception
{
    public SrtException(string call)
        : base($"{call}: {LibSrt.LastErrorText()}")
    {
    }

    public SrtException()
    {
    }

    public SrtException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Owns one SRT socket id: <c>srt_close</c> exactly once.</summary>
internal sealed class SrtSocketHandle : SafeHandle
{
    public SrtSocketHandle(int socket)
        : base(LibSrt.InvalidSocket, ownsHandle: true) => SetHandle(socket);

    public override bool IsInvalid => handle == LibSrt.InvalidSocket;

    /// <summary>The libsrt socket id; valid while this handle is not closed.</summary>
    public int Id => (int)handle;

    protected override bool ReleaseHandle() => LibSrt.Close((int)handle) == 0;
}

/// <summary>Owns one SRT epoll id: <c>srt_epoll_release</c> exactly once.</summary>
internal sealed class SrtEpollHandle : SafeHandle
{
    public SrtEpollHandle(int epoll)
        : base(LibSrt.Error, ownsHandle: true) => SetHandle(epoll);

    public override bool IsInvalid => handle < 0;

    public int Id => (int)handle;

    protected override bool ReleaseHandle() => LibSrt.EpollRelease((int)handle) == 0;
}
