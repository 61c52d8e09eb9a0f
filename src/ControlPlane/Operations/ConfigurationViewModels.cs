namespace StreamVerse.ControlPlane.Operations;

/// <summary>What the control plane knows of the daemon's configuration: the host composes it (the layers, the dynamic
/// file and etcd, which keys are read at start only), the admin view shows it.</summary>
internal interface IConfigurationView
{
    ConfigurationSnapshot Snapshot();
}

/// <summary>The configuration in force.</summary>
/// <param name="Entries">Every <c>StreamVerse:*</c>, <c>Logging:*</c> and <c>Kestrel:*</c> key with a value, sorted by key: what is set
/// anywhere, and the documented defaults of the validated option classes that nothing overrides.</param>
/// <param name="PendingRestart">Keys changed (file or etcd) since the daemon started that take effect only after a restart.</param>
/// <param name="DynamicSources">The dynamic layers in force: <c>file</c> (the --config file's path) and/or <c>etcd</c> (endpoint and key prefix).</param>
internal sealed record ConfigurationSnapshot(List<ConfigurationEntry> Entries, List<string> PendingRestart, Dictionary<string, string> DynamicSources);

/// <summary>One key in force.</summary>
/// <param name="Key">The configuration key (<c>Section:Key</c>; the environment's <c>Section__Key</c>).</param>
/// <param name="Value">The value, or <c>"[redacted]"</c> when <paramref name="Redacted"/>.</param>
/// <param name="Source">Where the value comes from, the last layer that sets it: <c>default</c>, <c>appsettings.json</c>,
/// <c>environment</c>, <c>file</c> (--config), <c>etcd</c>, <c>command line</c>.</param>
/// <param name="Redacted">The key names a secret (secret, password, key, token, credential, connection string, a stream
/// key) or the value carries one (a <c>password=</c> pair, a URL's user information): the value is never shown.</param>
/// <param name="RestartRequired">The daemon reads this key at start only: a change applies after a restart.</param>
internal sealed record ConfigurationEntry(string Key, string? Value, string Source, bool Redacted, bool RestartRequired);
