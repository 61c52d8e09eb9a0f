using System.Globalization;

namespace StreamVerse.Origin.Hosting;

/// <summary>
/// Maps the daemon's flags onto configuration keys, so every flag is also an appsettings key and an
/// environment variable (<c>StreamVerse__Http</c>, ...). Unknown flags are an error, not silently ignored.
/// </summary>
internal static class CommandLine
{
    private static readonly Dictionary<string, string> Keys = new(StringComparer.Ordinal)
    {
        ["--data"] = "StreamVerse:Data",
        ["--http"] = "StreamVerse:Http",
        ["--rtmp"] = "StreamVerse:Rtmp",
        ["--rtmps"] = "StreamVerse:Rtmps",
        ["--srt"] = "StreamVerse:Srt:Listen",
        ["--https"] = "StreamVerse:Https",
        ["--upstream"] = "StreamVerse:Upstream",
        ["--config"] = "StreamVerse:Config:File",
        ["--log-format"] = "StreamVerse:LogFormat",
    };

    public static Dictionary<string, string?> Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string? inline = null;
            var eq = flag.IndexOf('=', StringComparison.Ordinal);
            if (flag.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = flag[(eq + 1)..];
                flag = flag[..eq];
            }

            string Next()
            {
                if (inline is not null)
                {
                    return inline;
                }

                if (i + 1 >= args.Count)
                {
                    throw new CommandLineException(string.Create(CultureInfo.InvariantCulture, $"{flag} needs a value"));
                }

                return args[++i];
            }

            if (Keys.TryGetValue(flag, out var key))
            {
                values[key] = Next();
            }
            else if (flag == "--stream")
            {
                var pair = Next();
                var sep = pair.IndexOf('=', StringComparison.Ordinal);
                if (sep <= 0 || sep == pair.Length - 1)
                {
                    throw new CommandLineException("--stream takes NAME=KEY");
                }

                values["StreamVerse:Streams:" + pair[..sep]] = pair[(sep + 1)..];
            }
            else if (flag.StartsWith("--", StringComparison.Ordinal) && flag.Contains(':', StringComparison.Ordinal))
            {
                // Any configuration key may be given as --Section:Key value (ASP.NET's own convention).
                values[flag[2..]] = Next();
            }
            else
            {
                throw new CommandLineException($"unknown argument '{flag}' (flags: --data DIR --http HOST:PORT --rtmp HOST:PORT --rtmps HOST:PORT --srt HOST:PORT --https HOST:PORT --stream NAME=KEY --upstream URL --config FILE --log-format text|json, or --Section:Key VALUE)");
            }
        }

        return values;
    }
}

internal sealed class CommandLineException(string message) : Exception(message);
