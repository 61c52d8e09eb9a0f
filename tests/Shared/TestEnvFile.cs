namespace StreamVerse.Tests.Shared;

/// <summary>
/// The settings of a test server that <c>./setup.sh</c> starts: an environment variable wins, else the
/// <c>NAME='value'</c> file setup.sh writes for it. A missing setting throws (a test failure, never a skip): CI runs
/// setup.sh first.
/// </summary>
internal static class TestEnvFile
{
    /// <summary>A reader of <paramref name="path"/>'s settings; <paramref name="server"/> names the server in the error.</summary>
    public static Func<string, string> Reader(string path, string server)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            foreach (var line in File.ReadAllLines(path))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('\'', '"');
                }
            }
        }

        return name => Environment.GetEnvironmentVariable(name) is { Length: > 0 } env ? env
            : values.TryGetValue(name, out var v) ? v
            : throw new InvalidOperationException($"No test {server}: set {name} or run ./setup.sh deps (starts it, writes {path}).");
    }
}
