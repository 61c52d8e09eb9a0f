using System.ComponentModel.DataAnnotations;

namespace StreamVerse.ControlPlane;

/// <summary>Config section <c>StreamVerse:ControlPlane</c>.</summary>
internal sealed class ControlPlaneOptions
{
    public const string Section = "StreamVerse:ControlPlane";

    /// <summary>From <c>StreamVerse:Data</c>: the embedded database, key files and avatars live here.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataPath { get; set; } = "./data";

    /// <summary>The account registered with this e-mail becomes an admin (the first admin of a deployment).</summary>
    public string? BootstrapAdminEmail { get; set; }

    /// <summary>Browser origins allowed to call <c>/api</c> (empty: same-origin only).</summary>
    public string[] CorsOrigins { get; set; } = [];

    [Range(1024, 64 * 1024 * 1024)]
    public int AvatarMaxBytes { get; set; } = 2 * 1024 * 1024;

    [Range(1, 1000)]
    public int LoginMaxFailuresPerAccount { get; set; } = 5;

    [Range(1, 100_000)]
    public int LoginMaxFailuresPerIp { get; set; } = 100;

    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Argon2id memory in KiB (OWASP minimum 19 MiB = 19456 KiB).</summary>
    [Range(19456, 4 * 1024 * 1024)]
    public int Argon2MemoryKiB { get; set; } = 19456;

    [Range(2, 100)]
    public int Argon2Iterations { get; set; } = 2;

    /// <summary>
    /// Sign-ins (logins, re-authentications, password changes) that may wait for an Argon2id run while every core
    /// runs one; past it they are answered 503 with a Retry-After.
    /// </summary>
    [Range(0, 100_000)]
    public int Argon2QueueLimit { get; set; } = 256;

    /// <summary>
    /// Registrations that may wait for an Argon2id run. They wait behind every sign-in and never take the last
    /// core; past this limit they are answered 503 with a Retry-After.
    /// </summary>
    [Range(0, 100_000)]
    public int Argon2RegistrationQueueLimit { get; set; } = 16;

    /// <summary>Registrations accepted per client address (an IPv6 one by its /64) per <see cref="RegistrationWindow"/>; 0 = no limit.</summary>
    [Range(0, 1_000_000)]
    public int RegistrationsPerAddress { get; set; } = 20;

    /// <summary>The sliding window of <see cref="RegistrationsPerAddress"/>.</summary>
    public TimeSpan RegistrationWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often revocations and the protected-video set are re-read (other processes' changes).</summary>
    public TimeSpan CacheRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the origin trusts a video's cached <c>vod_prefix</c> (and a cached "none") before it asks the database again.</summary>
    public TimeSpan VodCatalogTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a deleted video's id stays refused at the origin: <c>StreamVerse:Segmenter:RecordingRetention</c>
    /// plus a day, so that no node still holding its live recording (kept that long after its last write) serves it.
    /// </summary>
    public TimeSpan DeletedVideoRetention { get; internal set; } = RecordingRetentionDefault + TimeSpan.FromDays(1);

    /// <summary>The Segmenter's default <c>RecordingRetention</c>, for when it is not configured.</summary>
    internal static readonly TimeSpan RecordingRetentionDefault = TimeSpan.FromDays(7);
}

/// <summary>Config section <c>StreamVerse:ControlPlane:Jwt</c>.</summary>
internal sealed class JwtOptions
{
    public const string Section = "StreamVerse:ControlPlane:Jwt";

    /// <summary>HS256 key: base64 of at least 32 bytes, as in the key file. Absent: a random key is generated once into DATA/keys/jwt.key (0600).</summary>
    public string? SigningKey { get; set; }

    [Required(AllowEmptyStrings = false)]
    public string Issuer { get; set; } = "streamverse";

    [Required(AllowEmptyStrings = false)]
    public string Audience { get; set; } = "streamverse-api";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>Config section <c>StreamVerse:ControlPlane:Playback</c>.</summary>
internal sealed class PlaybackOptions
{
    public const string Section = "StreamVerse:ControlPlane:Playback";

    /// <summary>
    /// HMAC-SHA256 key for playback tokens (a different key from the JWT one): base64 of at least 32 bytes, as in the key
    /// file, so an edge can be given that file's content. Absent: generated into DATA/keys/playback.key.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>Lifetime of a token for a video with no known duration (live), and the least any token gets.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Cap of a VOD token's lifetime, which otherwise covers the presentation (<see cref="LifetimeFor"/>); also how
    /// long a revocation is kept (<see cref="Playback.PlaybackRevocations"/>).</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// A token for a video of <paramref name="durationSeconds"/> lives <see cref="TokenLifetime"/> plus twice the
    /// duration (pauses, seeks back, a slow start), at most <see cref="MaxTokenLifetime"/>: a viewer who is still
    /// entitled plays to the end however long the video is, while one who loses access is cut off by a revocation,
    /// not by the expiry.
    /// </summary>
    public TimeSpan LifetimeFor(double? durationSeconds)
    {
        var cover = TokenLifetime + TimeSpan.FromSeconds(2 * Math.Clamp(durationSeconds ?? 0, 0, MaxTokenLifetime.TotalSeconds));
        return cover < MaxTokenLifetime ? cover : MaxTokenLifetime; // (validated: MaxTokenLifetime >= TokenLifetime)
    }
}
