namespace StreamVerse.Origin.Configuration;

/// <summary>
/// Where the daemon's changeable configuration comes from: a JSON file reloaded on change (<c>--config FILE</c>, key
/// <c>StreamVerse:Config:File</c>) and/or etcd (<c>StreamVerse:Config:Etcd:*</c>). Read once at start, from the
/// command line, the environment and appsettings.json (not from the sources they name).
/// </summary>
internal sealed class DynamicConfigurationSettings
{
    public const string FileKey = "StreamVerse:Config:File";
    public const string EtcdEndpointsKey = "StreamVerse:Config:Etcd:Endpoints";
    public const string EtcdPrefixKey = "StreamVerse:Config:Etcd:Prefix";
    public const string DefaultEtcdPrefix = "/streamverse/config/";

    /// <summary>The JSON file's absolute path, or null.</summary>
    public string? File { get; init; }

    /// <summary>One etcd endpoint (<c>http://HOST:2379</c>); several, comma-separated, are tried in order at start.</summary>
    public IReadOnlyList<string> EtcdEndpoints { get; init; } = [];

    public string EtcdPrefix { get; init; } = DefaultEtcdPrefix;

    public bool Any => File is not null || EtcdEndpoints.Count > 0;

    public static DynamicConfigurationSettings Read(Func<string, string?> value)
    {
        var file = value(FileKey);
        var endpoints = value(EtcdEndpointsKey);
        var prefix = value(EtcdPrefixKey);
        return new DynamicConfigurationSettings
        {
            File = string.IsNullOrWhiteSpace(file) ? null : Path.GetFullPath(file),
            EtcdEndpoints = string.IsNullOrWhiteSpace(endpoints)
                ? []
                : endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            EtcdPrefix = string.IsNullOrWhiteSpace(prefix) ? DefaultEtcdPrefix : prefix,
        };
    }

    /// <summary>
    /// The keys the running daemon reads again after a change (through <c>IOptionsMonitor</c> or the configuration on each
    /// use). Any other key that changes is logged as needing a restart and shown so in the admin view.
    /// A key is live when it equals one of these or starts with one followed by ':'.
    /// </summary>
    public static readonly string[] LiveKeys =
    [
        "Logging:LogLevel",
        "Logging:Console:LogLevel",
        "StreamVerse:Limits:RequestsPerSecondPerIp",
        "StreamVerse:Limits:RequestBurstPerIp",
        "StreamVerse:Streams",
        "StreamVerse:ControlPlane:CorsOrigins",
    ];

    public static bool IsLive(string key)
    {
        foreach (var live in LiveKeys)
        {
            if (key.StartsWith(live, StringComparison.OrdinalIgnoreCase)
                && (key.Length == live.Length || key[live.Length] == ':'))
            {
                return true;
            }
        }

        return false;
    }
}
