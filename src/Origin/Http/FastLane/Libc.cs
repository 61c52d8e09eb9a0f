using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// The libc calls of the fast lane (Linux only): <see cref="EpollFront"/>'s event loops and <see cref="ZeroCopyBodies"/>' files. Blittable signatures; buffers are passed as
/// pointers the caller keeps pinned for the call. <c>struct epoll_event</c> is packed on x86-64 (12 bytes, data at 4)
/// and naturally aligned on arm64 (16 bytes, data at 8); <c>struct msghdr</c> and <c>struct iovec</c> are the same on
/// both (checked against the installed headers by a test that compiles a probe).
/// </summary>
internal static unsafe partial class Libc
{
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLOUT = 0x004;
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_MORE = 0x8000;
    internal const int EINTR = 4;
    internal const int EAGAIN = 11;
    internal const int EINVAL = 22;
    internal const int ENOSYS = 38;
    internal const uint MFD_CLOEXEC = 1;
    internal const int O_RDWR = 2;
    internal const int O_CLOEXEC = 0x80000;
    internal const int Mode0600 = 0x180;

    /// <summary>__O_TMPFILE | O_DIRECTORY; O_DIRECTORY is 0200000 in asm-generic/fcntl.h (x86-64) but 040000 on arm64 (arch/arm64/include/uapi/asm/fcntl.h).</summary>
    internal static readonly int O_TMPFILE = 0x400000 | (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "sendfile", SetLastError = true)]
    internal static partial nint SendFile(int outFd, int inFd, ref long offset, nuint count);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    internal static partial nint Send(int fd, ReadOnlySpan<byte> buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    internal static partial nint PRead(int fd, Span<byte> buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    internal static partial nint PWrite(int fd, ReadOnlySpan<byte> buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);


    /// <summary>sizeof(struct epoll_event).</summary>
    internal static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>offsetof(struct epoll_event, data).</summary>
    internal static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>The architectures whose layouts above are known.</summary>
    internal static bool Supported =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int EpollCtl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    internal static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    internal static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    internal static partial nint SendMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    /// <summary>Writes an epoll_event (events, data) at <paramref name="at"/>, in this architecture's layout.</summary>
    internal static void PutEvent(byte* at, uint events, ulong data)
    {
        *(uint*)at = events;
        Unsafe.WriteUnaligned(at + EpollDataOffset, data);
    }

    internal static ulong DataAt(byte* at) => Unsafe.ReadUnaligned<ulong>(at + EpollDataOffset);

    internal enum SendOutcome
    {
        Progress,
        Interrupted,
        Full,
        Failed,
    }

    /// <summary>One non-blocking send's result: bytes taken, EINTR (call again), a full socket buffer (EAGAIN or nothing taken), or an error.</summary>
    internal static SendOutcome Classify(nint result)
    {
        if (result > 0)
        {
            return SendOutcome.Progress;
        }

        var errno = result < 0 ? Marshal.GetLastPInvokeError() : EAGAIN;
        return errno == EINTR ? SendOutcome.Interrupted : errno == EAGAIN ? SendOutcome.Full : SendOutcome.Failed;
    }
}
