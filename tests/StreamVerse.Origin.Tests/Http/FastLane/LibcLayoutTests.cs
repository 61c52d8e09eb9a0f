using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using StreamVerse.Origin.Http.FastLane;

namespace StreamVerse.Origin.Tests.Http.FastLane;

/// <summary>
/// The fast lane's view of <c>struct epoll_event</c>, <c>struct msghdr</c>, <c>struct iovec</c> and the flags and
/// errors it uses (the event loops', the zero-copy files'), against the installed headers: a C probe compiled with gcc prints them.
/// </summary>
public sealed class LibcLayoutTests
{
    [Fact]
    public void Mirrors_match_the_system_headers()
    {
        const string probe = """
            #define _GNU_SOURCE
            #include <stddef.h>
            #include <stdio.h>
            #include <sys/epoll.h>
            #include <sys/eventfd.h>
            #include <sys/mman.h>
            #include <fcntl.h>
            #include <sys/socket.h>
            #include <sys/uio.h>
            #include <errno.h>
            int main(void) {
              printf("epoll_event.size %zu\n", sizeof(struct epoll_event));
              printf("epoll_event.data %zu\n", offsetof(struct epoll_event, data));
              printf("msghdr.size %zu\n", sizeof(struct msghdr));
              printf("msghdr.msg_iov %zu\n", offsetof(struct msghdr, msg_iov));
              printf("msghdr.msg_iovlen %zu\n", offsetof(struct msghdr, msg_iovlen));
              printf("msghdr.msg_control %zu\n", offsetof(struct msghdr, msg_control));
              printf("msghdr.msg_flags %zu\n", offsetof(struct msghdr, msg_flags));
              printf("iovec.size %zu\n", sizeof(struct iovec));
              printf("iovec.iov_len %zu\n", offsetof(struct iovec, iov_len));
              printf("EPOLL_CLOEXEC %d\n", EPOLL_CLOEXEC);
              printf("EPOLL_CTL_ADD %d\n", EPOLL_CTL_ADD);
              printf("EPOLL_CTL_DEL %d\n", EPOLL_CTL_DEL);
              printf("EPOLL_CTL_MOD %d\n", EPOLL_CTL_MOD);
              printf("EPOLLIN %d\n", EPOLLIN);
              printf("EPOLLOUT %d\n", EPOLLOUT);
              printf("EFD_CLOEXEC %d\n", EFD_CLOEXEC);
              printf("EFD_NONBLOCK %d\n", EFD_NONBLOCK);
              printf("MSG_NOSIGNAL %d\n", MSG_NOSIGNAL);
              printf("MSG_MORE %d\n", MSG_MORE);
              printf("EINTR %d\n", EINTR);
              printf("EAGAIN %d\n", EAGAIN);
              printf("EINVAL %d\n", EINVAL);
              printf("ENOSYS %d\n", ENOSYS);
              printf("MFD_CLOEXEC %d\n", MFD_CLOEXEC);
              printf("O_RDWR %d\n", O_RDWR);
              printf("O_CLOEXEC %d\n", O_CLOEXEC);
              printf("O_TMPFILE %d\n", O_TMPFILE);
              return 0;
            }
            """;
        var dir = Directory.CreateTempSubdirectory("sv-libc-probe-").FullName;
        try
        {
            var source = Path.Combine(dir, "probe.c");
            var exe = Path.Combine(dir, "probe");
            File.WriteAllText(source, probe);
            Run("gcc", "-std=c11", "-o", exe, source);
            var native = Run(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' '))
                .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));

            var ours = new Dictionary<string, long>
            {
                ["epoll_event.size"] = Libc.EpollEventSize,
                ["epoll_event.data"] = Libc.EpollDataOffset,
                ["msghdr.size"] = Marshal.SizeOf<Libc.MsgHdr>(),
                ["msghdr.msg_iov"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.Iov)),
                ["msghdr.msg_iovlen"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.IovLength)),
                ["msghdr.msg_control"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.Control)),
                ["msghdr.msg_flags"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.Flags)),
                ["iovec.size"] = Marshal.SizeOf<Libc.IoVec>(),
                ["iovec.iov_len"] = Marshal.OffsetOf<Libc.IoVec>(nameof(Libc.IoVec.Length)),
                ["EPOLL_CLOEXEC"] = Libc.EPOLL_CLOEXEC,
                ["EPOLL_CTL_ADD"] = Libc.EPOLL_CTL_ADD,
                ["EPOLL_CTL_DEL"] = Libc.EPOLL_CTL_DEL,
                ["EPOLL_CTL_MOD"] = Libc.EPOLL_CTL_MOD,
                ["EPOLLIN"] = Libc.EPOLLIN,
                ["EPOLLOUT"] = Libc.EPOLLOUT,
                ["EINVAL"] = Libc.EINVAL,
                ["ENOSYS"] = Libc.ENOSYS,
                ["MFD_CLOEXEC"] = Libc.MFD_CLOEXEC,
                ["O_RDWR"] = Libc.O_RDWR,
                ["O_CLOEXEC"] = Libc.O_CLOEXEC,
                ["O_TMPFILE"] = Libc.O_TMPFILE,
                ["EFD_CLOEXEC"] = Libc.EFD_CLOEXEC,
                ["EFD_NONBLOCK"] = Libc.EFD_NONBLOCK,
                ["MSG_NOSIGNAL"] = Libc.MSG_NOSIGNAL,
                ["MSG_MORE"] = Libc.MSG_MORE,
                ["EINTR"] = Libc.EINTR,
                ["EAGAIN"] = Libc.EAGAIN,
            };
            var mismatches = ours.Where(o => native[o.Key] != o.Value).Select(o => $"{o.Key}: C {native[o.Key]}, C# {o.Value}").ToList();
            Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
            Assert.Equal(native.Keys.Order(), ours.Keys.Order());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), file + " did not finish");
        Assert.True(process.ExitCode == 0, $"{file} failed: {stderr.Result}");
        return stdout.Result;
    }
}
