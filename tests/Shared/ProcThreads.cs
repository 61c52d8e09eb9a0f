using System.Globalization;

namespace StreamVerse.Tests.Shared;

/// <summary>The threads of this process as the kernel has them, read from /proc (independent of the code under test).</summary>
internal static class ProcThreads
{
    /// <summary>Every thread: /proc/self/task/TID/stat, its comm and field 19 (nice).</summary>
    public static List<(int Tid, string Name, int Nice)> List()
    {
        var list = new List<(int, string, int)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // ended while listed
            }

            // "TID (comm) S ...": comm may hold spaces and parentheses, so it ends at the last ')'.
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            list.Add((int.Parse(stat[..(open - 1)], CultureInfo.InvariantCulture), stat[(open + 1)..close], int.Parse(fields[16], CultureInfo.InvariantCulture)));
        }

        return list;
    }
}
