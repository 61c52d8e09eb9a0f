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
        var read = TestEnvFile.Reader(EnvFile, "S3 server");
        string Get(string name) => read(name);

        return (Get("STREAMVERSE_TEST_S3_ENDPOINT"), Get("STREAMVERSE_TEST_S3_ACCESS_KEY"), Get("STREAMVERSE_TEST_S3_SECRET_KEY"));
    }
}
