namespace StreamVerse.Tests.Shared;

/// <summary>
/// Where the S3-compatible server that <c>./setup.sh</c> starts (s3rver) answers, and its credentials:
/// <c>$STREAMVERSE_TEST_S3_ENDPOINT</c> / <c>_ACCESS_KEY</c> / <c>_SECRET_KEY</c>, else the file setup.sh writes.
/// Reading it throws (a test failure, never a skip) when neither exists: CI runs setup.sh first.
/// </summary>
internal static class TestS3Server
{
    public const string EnvFile = "/var/lib/streamverse-test/s3.env";

    private static readonly Lazy<(string Endpoint, string AccessKey, string SecretKey)> Settings = new(Find);

    public static string Endpoint => Settings.Value.Endpoint;

    public static string AccessKey => Settings.Value.AccessKey;

    public static string SecretKey => Settings.Value.SecretKey;

    private static (string, string, string) Find()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (File.Exists(EnvFile))
        {
            foreach (var line in File.ReadAllLines(EnvFile))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('\'', '"');
                }
            }
        }

        string Get(string name) =>
            Environment.GetEnvironmentVariable(name) is { Length: > 0 } env ? env
            : values.TryGetValue(name, out var v) ? v
            : throw new InvalidOperationException($"No test S3 server: set {name} or run ./setup.sh deps (starts s3rver, writes {EnvFile}).");

        return (Get("STREAMVERSE_TEST_S3_ENDPOINT"), Get("STREAMVERSE_TEST_S3_ACCESS_KEY"), Get("STREAMVERSE_TEST_S3_SECRET_KEY"));
    }
}
