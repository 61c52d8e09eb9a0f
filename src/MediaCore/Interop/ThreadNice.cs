using System.Globalization;
using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

/// <summary>
/// Lowers the priority of the threads libavcodec and libx264 start, so that a transcode takes the CPU the event loops
/// that serve viewers leave (PeerTube runs its VOD ffmpeg processes at nice 15 for the same reason).
/// <para>
/// On Linux a nice value belongs to a thread (setpriority(2), "BUGS"), and a new thread starts with its creator's
/// value and name. Lowering the transcoder's own managed thread would be simpler and wrong: every thread it happens to
/// start would inherit the value, the .NET thread pool's workers included (a pool worker is created on the thread that
/// queues work when no worker is idle: a channel write, a completed task), and those serve requests for the rest of
/// their lives; raising them back needs CAP_SYS_NICE. So the managed threads stay at the daemon's priority, and only
/// the native threads that appear while this thread opens its codecs (<c>avcodec_open2</c> starts libavcodec's frame
/// threads and x264's pool and lookahead there; they never start managed threads) are moved, by thread id.
/// </para>
/// </summary>
internal static partial class ThreadNice
{
    private const int PrioProcess = 0;

    /// <summary>Highest nice value (lowest priority) Linux has.</summary>
    public const int Max = 19;

    /// <summary>
    /// Held from <see cref="TakeSiblings"/> to <see cref="LowerStartedSince"/>, and by <see cref="StartNamed"/>: threads are
    /// told apart by name, and a new thread carries its creator's name until the runtime names it. Without the lock a
    /// transcode running beside another moved that one's new managed thread (still named like its creator) to its own
    /// nice (CI: a "mediacore-encode" thread at nice 11).
    /// </summary>
    public static readonly Lock Window = new();

    /// <summary>Starts <paramref name="thread"/> (named) and returns once it runs under its own name, inside <see cref="Window"/>.</summary>
    public static void StartNamed(Thread thread, ManualResetEventSlim running)
    {
        lock (Window)
        {
            thread.Start();
            running.Wait(); // set by the thread's first statement: the runtime names a thread before it runs its delegate
        }
    }

    /// <summary>A thread's nice value (0 = the calling thread), or null where the call failed.</summary>
    public static int? Of(int tid = 0)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var value = GetPriority(PrioProcess, (uint)tid);
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }

    /// <summary>The calling thread's name and the threads of this process that carry it, taken before it opens codecs.</summary>
    public readonly record struct Siblings(string Name, HashSet<int> Tids);

    public static Siblings TakeSiblings()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new Siblings("", []);
        }

        var name = File.ReadAllText("/proc/thread-self/comm");
        return new Siblings(name, [.. Tasks().Where(t => t.Comm == name).Select(t => t.Tid)]);
    }

    /// <summary>
    /// Moves to <paramref name="nice"/> every thread that carries <paramref name="before"/>'s name and was not among
    /// its threads (so: started since by the thread that took it, inside libav), unless already at or below that
    /// priority. 0 does nothing.
    /// </summary>
    /// <returns>How many threads were moved, and the first refusal's reason if any.</returns>
    public static (int Moved, string? Refused) LowerStartedSince(Siblings before, int nice)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nice);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, Max);
        if (nice == 0 || !OperatingSystem.IsLinux())
        {
            return (0, null);
        }

        var moved = 0;
        string? refused = null;
        foreach (var (tid, comm) in Tasks())
        {
            if (comm != before.Name || before.Tids.Contains(tid) || Of(tid) is not { } current || current >= nice)
            {
                continue;
            }

            if (SetPriority(PrioProcess, (uint)tid, nice) == 0)
            {
                moved++;
            }
            else
            {
                refused ??= Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            }
        }

        return (moved, refused);
    }

    private static IEnumerable<(int Tid, string Comm)> Tasks()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(dir, "comm"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // ended while listed
            }

            yield return (int.Parse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture), comm);
        }
    }

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, uint who);

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, uint who, int prio);
}
