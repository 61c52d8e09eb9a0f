using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// Large stored objects (segments, big parts) asked for more than once get a copy in a file, and are then sent with
/// <c>sendfile(2)</c>: the kernel hands the file's pages to the socket instead of copying the bytes from our buffers
/// for every viewer, which is most of what a 1 MB response costs (bench/RESULTS.md, the kernel's copy_from_iter). One
/// copy per object instead of one per response.
/// <para>
/// The file is an unnamed one (<c>O_TMPFILE</c>, never linked, gone when closed or when the process dies) in a directory
/// of the data volume, so its pages are the page cache of a disk file system: ext4 and xfs keep a large write in large
/// folios, which sendfile hands to the socket in a few lookups, where a memfd (shmem, 4 KiB pages unless the host's
/// <c>shmem_enabled</c> allows huge pages) costs a lookup and a lock per 4 KiB (measured in bench/RESULTS.md,
/// "zero-copy files"). Where the directory refuses <c>O_TMPFILE</c> (no such file system support, not writable) the
/// copy goes to a memfd (<c>memfd_create(2)</c>, RAM) instead. The file lives as long as the object (a
/// <see cref="ConditionalWeakTable{TKey,TValue}"/> entry; its handle's release closes it) and is reported to the GC as
/// memory pressure, since its pages are not on the managed heap.
/// </para>
/// </summary>
internal sealed partial class ZeroCopyBodies
{
    /// <summary>Smaller bodies are sent from their buffers (a file would not pay for itself).</summary>
    internal const long MinimumBytes = 128 * 1024;

    private readonly ConditionalWeakTable<StoredObject, State> _states = new();
    private readonly ILogger _logger;

    /// <summary>Where the unnamed files are made; null once it refused one (then memfds).</summary>
    private volatile string? _directory;

    /// <summary>Off after a failure to make any file (not Linux, out of descriptors): bodies are sent from their buffers.</summary>
    private volatile bool _unavailable = !OperatingSystem.IsLinux();

    /// <param name="directory">A directory for the unnamed files (created if missing); null for memfds only.</param>
    public ZeroCopyBodies(string? directory, ILogger logger)
    {
        _logger = logger;
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            // The O_TMPFILE value below is known for these two only.
            directory = null;
        }

        if (directory is not null && !_unavailable)
        {
            Directory.CreateDirectory(directory);
        }

        _directory = directory;
    }

    /// <summary>The file holding <paramref name="obj"/>, made on the object's second request; null before that or when unavailable.</summary>
    public BodyFile? For(StoredObject obj)
    {
        if (obj.Length < MinimumBytes || _unavailable)
        {
            return null;
        }

        var state = _states.GetValue(obj, static _ => new State());
        if (state.File is { } ready)
        {
            return ready;
        }

        if (Interlocked.Increment(ref state.Requests) < 2 || state.Failed)
        {
            // Requested once so far: many objects are fetched by one viewer only, and for those the copy into a
            // file would double the work.
            return null;
        }

        lock (state)
        {
            if (state.File is null && !state.Failed && !_unavailable)
            {
                state.File = Create(obj);
                state.Failed = state.File is null;
            }

            return state.File;
        }
    }

    /// <summary>The object in a new unnamed file in the directory, else in a memfd; null when neither could be made.</summary>
    private BodyFile? Create(StoredObject obj)
    {
        if (_directory is { } directory)
        {
            var fd = Libc.Open(directory, Libc.O_TMPFILE | Libc.O_RDWR | Libc.O_CLOEXEC, Libc.Mode0600);
            if (fd >= 0)
            {
                // A failed write (the volume is full) leaves this object to a memfd; the next one tries the directory again.
                if (BodyFile.Fill(fd, obj) is { } file)
                {
                    return file;
                }
            }
            else
            {
                _directory = null;
                Log.NoTmpFile(_logger, directory, Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }
        }

        var memfd = Libc.MemfdCreate("streamverse-object", Libc.MFD_CLOEXEC);
        if (memfd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Libc.ENOSYS or Libc.EINVAL)
            {
                _unavailable = true;
            }

            Log.NoFile(_logger, Marshal.GetPInvokeErrorMessage(errno));
            return null;
        }

        return BodyFile.Fill(memfd, obj);
    }

    private sealed class State
    {
        public int Requests;
        public BodyFile? File;
        public bool Failed;
    }

    /// <summary>
    /// Sends [offset, offset + count) of <paramref name="file"/> on <paramref name="socket"/> as far as the socket takes
    /// it without blocking. Returns the bytes sent; fewer than <paramref name="count"/> means the socket's buffer is full
    /// (the caller sends the rest another way), -1 an error (the peer is gone).
    /// </summary>
    public static long SendFile(Socket socket, SafeHandle file, long offset, long count)
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
                var n = Libc.SendFile(outFd, inFd, ref position, (nuint)(count - sent));
                switch (Libc.Classify(n))
                {
                    case Libc.SendOutcome.Progress:
                        sent += n;
                        break;
                    case Libc.SendOutcome.Full:
                        return sent;
                    case Libc.SendOutcome.Failed:
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

    /// <summary>Reads up to <paramref name="buffer"/>'s length from <paramref name="file"/> at <paramref name="offset"/>; the bytes read, or -1.</summary>
    public static int Read(SafeHandle file, Span<byte> buffer, long offset)
    {
        var fileRef = false;
        try
        {
            file.DangerousAddRef(ref fileRef);
            while (true)
            {
                var n = Libc.PRead((int)file.DangerousGetHandle(), buffer, (nuint)buffer.Length, offset);
                if (n >= 0 || Marshal.GetLastPInvokeError() != Libc.EINTR)
                {
                    return (int)n;
                }
            }
        }
        finally
        {
            if (fileRef)
            {
                file.DangerousRelease();
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
                var n = Libc.Send(fd, head[(int)sent..], (nuint)(head.Length - sent), Libc.MSG_MORE | Libc.MSG_NOSIGNAL);
                switch (Libc.Classify(n))
                {
                    case Libc.SendOutcome.Progress:
                        sent += n;
                        break;
                    case Libc.SendOutcome.Full:
                        return sent;
                    case Libc.SendOutcome.Failed:
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

    /// <summary>A file with one object's bytes; closing it (release) returns the GC memory pressure it added.</summary>
    internal sealed class BodyFile : SafeHandleZeroOrMinusOneIsInvalid
    {
        private long _pressure;

        private BodyFile()
            : base(ownsHandle: true)
        {
        }

        public long Length { get; private set; }

        /// <summary>Writes the object into <paramref name="fd"/> (which the result then owns); null, with the file closed, if a write failed.</summary>
        public static BodyFile? Fill(int fd, StoredObject obj)
        {
            var file = new BodyFile();
            file.SetHandle(fd);
            long written = 0;
            foreach (var chunk in obj.Chunks)
            {
                var span = chunk.Span;
                while (!span.IsEmpty)
                {
                    var n = Libc.PWrite(fd, span, (nuint)span.Length, written);
                    if (n <= 0)
                    {
                        if (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR)
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

            return Libc.Close((int)handle) == 0;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1025, Level = LogLevel.Warning, Message = "Zero-copy bodies: {Directory} refused an unnamed file ({Reason}); large bodies go through memfds (RAM) instead")]
        public static partial void NoTmpFile(ILogger logger, string directory, string reason);

        [LoggerMessage(EventId = 1026, Level = LogLevel.Warning, Message = "Zero-copy bodies: no memfd could be made ({Reason}); the object is sent from its buffers")]
        public static partial void NoFile(ILogger logger, string reason);
    }
}
