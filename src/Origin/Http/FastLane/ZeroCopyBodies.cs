using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// Large stored objects (segments, big parts) asked for more than once get a copy in a memfd (an anonymous file in
/// RAM, Linux <c>memfd_create(2)</c>), and are then sent with <c>sendfile(2)</c>: the kernel hands the file's pages to
/// the socket instead of copying the bytes from our buffers for every viewer, which is most of what a 1 MB response
/// costs (bench/RESULTS.md, the kernel's copy_from_iter). One copy per object instead of one per response. The memfd
/// lives as long as the object (a <see cref="ConditionalWeakTable{TKey,TValue}"/> entry; its handle's release closes
/// the file) and is reported to the GC as memory pressure, since its pages are not on the managed heap.
/// </summary>
internal static partial class ZeroCopyBodies
{
    /// <summary>Smaller bodies are sent from their buffers (a memfd would not pay for itself).</summary>
    internal const long MinimumBytes = 128 * 1024;

    private static readonly ConditionalWeakTable<StoredObject, State> States = new();

    /// <summary>Off after the first failure to create a memfd (not Linux, no memfd_create, out of descriptors): bodies are sent from their buffers.</summary>
    private static volatile bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>The memfd holding <paramref name="obj"/>, made on the object's second request; null before that or when unavailable.</summary>
    public static MemFd? For(StoredObject obj)
    {
        if (obj.Length < MinimumBytes || s_unavailable)
        {
            return null;
        }

        var state = States.GetValue(obj, static _ => new State());
        if (state.File is { } ready)
        {
            return ready;
        }

        if (Interlocked.Increment(ref state.Requests) < 2)
        {
            // Requested once so far: many objects are fetched by one viewer only, and for those the copy into a
            // memfd would double the work.
            return null;
        }

        lock (state)
        {
            if (state.File is null && !s_unavailable)
            {
                state.File = MemFd.Create(obj);
                s_unavailable = state.File is null;
            }

            return state.File;
        }
    }

    private sealed class State
    {
        public int Requests;
        public MemFd? File;
    }

    /// <summary>
    /// Sends [offset, offset + count) of <paramref name="file"/> on <paramref name="socket"/> as far as the socket takes
    /// it without blocking. Returns the bytes sent; fewer than <paramref name="count"/> means the socket's buffer is full
    /// (the caller sends the rest another way), -1 an error (the peer is gone).
    /// </summary>
    public static long SendFile(Socket socket, MemFd file, long offset, long count)
    {
        var socketHandle = socket.SafeHandle;
        bool socketRef = false, fileRef = false;
        try
        {
            // Both descriptors stay open (and so are not reused for another file) while the kernel uses them.
            socketHandle.DangerousAddRef(ref socketRef);
            file.DangerousAddRef(ref fileRef);
            var outFd = (int)socketHandle.DangerousGetHandle();
            var inFd = (int)file.DangerousGetHandle();
            long sent = 0;
            while (sent < count)
            {
                var position = offset + sent;
                var n = Native.SendFile(outFd, inFd, ref position, (nuint)(count - sent));
                switch (Classify(n))
                {
                    case Outcome.Progress:
                        sent += n;
                        break;
                    case Outcome.Full:
                        return sent;
                    case Outcome.Failed:
                        return -1;
                }
            }

            return sent;
        }
        finally
        {
            if (fileRef)
            {
                file.DangerousRelease();
            }

            if (socketRef)
            {
                socketHandle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="head"/> with MSG_MORE (it then leaves in one packet with the body's first bytes) as far as
    /// the socket takes it without blocking; the bytes sent, or -1 on an error.
    /// </summary>
    public static long SendMore(Socket socket, ReadOnlySpan<byte> head)
    {
        var socketHandle = socket.SafeHandle;
        var socketRef = false;
        try
        {
            socketHandle.DangerousAddRef(ref socketRef);
            var fd = (int)socketHandle.DangerousGetHandle();
            long sent = 0;
            while (sent < head.Length)
            {
                var n = Native.Send(fd, head[(int)sent..], (nuint)(head.Length - sent), Native.MSG_MORE | Native.MSG_NOSIGNAL);
                switch (Classify(n))
                {
                    case Outcome.Progress:
                        sent += n;
                        break;
                    case Outcome.Full:
                        return sent;
                    case Outcome.Failed:
                        return -1;
                }
            }

            return sent;
        }
        finally
        {
            if (socketRef)
            {
                socketHandle.DangerousRelease();
            }
        }
    }

    private enum Outcome
    {
        Progress,
        Interrupted,
        Full,
        Failed,
    }

    /// <summary>One non-blocking send's result: bytes taken, EINTR (call again), a full socket buffer (EAGAIN or nothing taken), or an error.</summary>
    private static Outcome Classify(nint result)
    {
        if (result > 0)
        {
            return Outcome.Progress;
        }

        var errno = result < 0 ? Marshal.GetLastPInvokeError() : Native.EAGAIN;
        return errno == Native.EINTR ? Outcome.Interrupted : errno == Native.EAGAIN ? Outcome.Full : Outcome.Failed;
    }

    /// <summary>A memfd with one object's bytes; closing it (release) returns the GC memory pressure it added.</summary>
    internal sealed class MemFd : SafeHandleZeroOrMinusOneIsInvalid
    {
        private long _pressure;

        private MemFd()
            : base(ownsHandle: true)
        {
        }

        public long Length { get; private set; }

        public static MemFd? Create(StoredObject obj)
        {
            var fd = Native.MemfdCreate("streamverse-object", Native.MFD_CLOEXEC);
            if (fd < 0)
            {
                return null;
            }

            var file = new MemFd();
            file.SetHandle(fd);
            long written = 0;
            foreach (var chunk in obj.Chunks)
            {
                var span = chunk.Span;
                while (!span.IsEmpty)
                {
                    var n = Native.PWrite(fd, span, (nuint)span.Length, written);
                    if (n <= 0)
                    {
                        if (n < 0 && Marshal.GetLastPInvokeError() == Native.EINTR)
                        {
                            continue;
                        }

                        file.Dispose();
                        return null;
                    }

                    written += n;
                    span = span[(int)n..];
                }
            }

            file.Length = written;
            file._pressure = written;
            GC.AddMemoryPressure(written);
            return file;
        }

        protected override bool ReleaseHandle()
        {
            if (_pressure > 0)
            {
                GC.RemoveMemoryPressure(_pressure);
            }

            return Native.Close((int)handle) == 0;
        }
    }

    private static partial class Native
    {
        internal const int EINTR = 4;
        internal const int EAGAIN = 11;
        internal const int MSG_MORE = 0x8000;
        internal const int MSG_NOSIGNAL = 0x4000;
        internal const uint MFD_CLOEXEC = 1;

        [LibraryImport("libc", EntryPoint = "sendfile", SetLastError = true)]
        internal static partial nint SendFile(int outFd, int inFd, ref long offset, nuint count);

        [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
        internal static partial nint Send(int fd, ReadOnlySpan<byte> buffer, nuint length, int flags);

        [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
        internal static partial nint PWrite(int fd, ReadOnlySpan<byte> buffer, nuint count, long offset);

        [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int MemfdCreate(string name, uint flags);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);
    }
}
