namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// Two daemons as a cluster (<see cref="TwoDaemonsApp"/>: one PostgreSQL schema, one Redis) that also share one uploads
/// directory (what <c>Uploads:Path</c> on shared storage gives a deployment). Daemon B's database poll of revocations is an
/// hour apart, so what reaches B sooner came through Redis; B gives up on a busy upload after half a second.
/// </summary>
public sealed class ClusterDaemonsApp : TwoDaemonsApp
{
    private readonly string _uploads = Directory.CreateTempSubdirectory("sv-cluster-uploads-").FullName;

    // A cluster's nodes share their signing keys (else each would refuse the others' tokens).
    private readonly string _playbackKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public string UploadsDir => _uploads;

    protected override IEnumerable<string> ExtraArgs =>
        [.. base.ExtraArgs, "--StreamVerse:ControlPlane:Uploads:Path", _uploads, "--StreamVerse:ControlPlane:Playback:SigningKey", _playbackKey];

    protected override IEnumerable<string> ExtraArgsB =>
    [
        "--StreamVerse:ControlPlane:Uploads:Path", _uploads,
        "--StreamVerse:ControlPlane:Playback:SigningKey", _playbackKey,
        "--StreamVerse:ControlPlane:Uploads:LockTimeout", "00:00:00.5",
        "--StreamVerse:ControlPlane:CacheRefreshInterval", "01:00:00",
    ];
}

[CollectionDefinition("cluster-daemons")]
public sealed class ClusterDaemonsCollection : ICollectionFixture<ClusterDaemonsApp>;
