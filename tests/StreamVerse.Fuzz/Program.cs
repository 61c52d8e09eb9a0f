using System.Diagnostics;
using SharpFuzz;

namespace StreamVerse.Fuzz;

/// <summary>
/// <c>dotnet StreamVerse.Fuzz.dll TARGET</c>: one input on stdin, or, under afl-fuzz, SharpFuzz's out-of-process fork
/// server (a crash or a hang kills only the child it restarts). <c>TARGET FILE|DIR...</c> replays inputs and says which
/// fail and how long each took; <c>--list</c> names the targets; <c>--write-seeds DIR</c> writes the seed corpora.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine("usage: StreamVerse.Fuzz TARGET [FILE|DIR...] | --list | --write-seeds DIR");
            return 2;
        }

        if (args[0] == "--list")
        {
            foreach (var t in FuzzTargets.All)
            {
                Console.WriteLine($"{t.Name}\t{t.Parses}");
            }

            return 0;
        }

        if (args[0] == "--write-seeds" && args.Length == 2)
        {
            SeedCorpus.Write(args[1]);
            return 0;
        }

        var target = FuzzTargets.Find(args[0]);
        if (target is null)
        {
            Console.Error.WriteLine($"unknown target '{args[0]}'; --list names them");
            return 2;
        }

        if (args.Length == 1)
        {
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                target.Run(buffer.ToArray());
            });
            return 0;
        }

        return Replay(target, args.Skip(1));
    }

    private static int Replay(FuzzTarget target, IEnumerable<string> paths)
    {
        var failed = 0;
        foreach (var file in paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]))
        {
            var input = File.ReadAllBytes(file);
            var watch = Stopwatch.StartNew();
            try
            {
                target.Run(input);
                Console.WriteLine($"ok   {watch.Elapsed.TotalMilliseconds,9:F1} ms  {file}");
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"FAIL {watch.Elapsed.TotalMilliseconds,9:F1} ms  {file}");
                Console.WriteLine($"     input (base64): {Convert.ToBase64String(input)}");
                Console.WriteLine($"     {e}");
            }
        }

        return failed == 0 ? 0 : 1;
    }
}
