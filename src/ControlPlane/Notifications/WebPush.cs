using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>
/// The VAPID key pair (RFC 8292): a P-256 private scalar from <see cref="NotificationOptions.VapidPrivateKey"/>, or
/// generated once into <c>{data}/keys/vapid.key</c> (0600, like <c>playback.key</c>) so browsers' subscriptions, which
/// are bound to the public key, survive restarts. The private key is never logged or served.
/// </summary>
internal sealed class VapidKeys : IDisposable
{
    private readonly ECDsa _key;

    public VapidKeys(IOptions<NotificationOptions> options, IOptions<ControlPlaneOptions> controlPlane)
    {
        var path = Path.Combine(Path.GetFullPath(controlPlane.Value.DataPath), "keys", "vapid.key");
        var bytes = Auth.KeyMaterial.LoadOrCreate(options.Value.VapidPrivateKey, NotificationOptions.Section + ":VapidPrivateKey", path);
        _key = TryImport(Convert.ToBase64String(bytes), out var key) ? key
            : throw new OptionsValidationException(NotificationOptions.Section + ":VapidPrivateKey", typeof(VapidKeys), [$"{path} does not hold a P-256 private key"]);
        var q = _key.ExportParameters(false).Q;
        PublicKeyBytes = [0x04, .. q.X!, .. q.Y!];
        PublicKey = Base64Url.EncodeToString(PublicKeyBytes);
    }

    /// <summary>The uncompressed public point (65 bytes), base64url: a browser's <c>applicationServerKey</c>.</summary>
    public string PublicKey { get; }

    public byte[] PublicKeyBytes { get; }

    /// <summary>A private scalar (32 bytes, base64) as a P-256 key; false for anything else (a scalar out of range included).</summary>
    public static bool TryImport(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ECDsa? key)
    {
        key = null;
        byte[] d;
        try
        {
            d = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        if (d.Length != 32)
        {
            return false;
        }

        try
        {
            key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d }); // OpenSSL derives Q from D
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// <c>Authorization: vapid t=..., k=...</c> for a push to <paramref name="endpoint"/> (RFC 8292 §2-3): an ES256 JWT
    /// whose <c>aud</c> is the push service's origin, expiring in 12 hours (at most 24 are allowed).
    /// </summary>
    public string Authorization(Uri endpoint, string subject, DateTimeOffset now)
    {
        var aud = endpoint.GetLeftPart(UriPartial.Authority);
        var header = Base64Url.EncodeToString("""{"typ":"JWT","alg":"ES256"}"""u8);
        var claims = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(
            new VapidClaims(aud, (now + TimeSpan.FromHours(12)).ToUnixTimeSeconds(), subject), ControlPlaneJsonContext.Default.VapidClaims));
        var signingInput = header + "." + claims;
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return "vapid t=" + signingInput + "." + Base64Url.EncodeToString(signature) + ", k=" + PublicKey;
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>The VAPID JWT's claims (RFC 8292 §2).</summary>
internal sealed record VapidClaims(
    [property: System.Text.Json.Serialization.JsonPropertyName("aud")] string Aud,
    [property: System.Text.Json.Serialization.JsonPropertyName("exp")] long Exp,
    [property: System.Text.Json.Serialization.JsonPropertyName("sub")] string Sub);

/// <summary>
/// Message encryption for Web Push (RFC 8291 over RFC 8188's <c>aes128gcm</c>), with .NET's primitives: an ephemeral
/// P-256 ECDH key per message, HKDF-SHA-256 and AES-128-GCM, one record.
/// </summary>
internal static class WebPushEncryption
{
    private const int RecordSize = 4096;

    /// <summary>The largest plaintext that fits the single record (RFC 8291 §4: 4096 minus the padding delimiter and the tag... and a margin).</summary>
    public const int MaxPlaintext = 3993;

    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> userAgentPublic, ReadOnlySpan<byte> authSecret)
    {
        if (plaintext.Length > MaxPlaintext)
        {
            throw new ArgumentException("push payload too large", nameof(plaintext));
        }

        using var ua = ECDiffieHellman.Create(PublicParameters(userAgentPublic));
        using var local = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = local.ExportParameters(false).Q;
        byte[] asPublic = [0x04, .. q.X!, .. q.Y!];
        var ecdhSecret = local.DeriveRawSecretAgreement(ua.PublicKey);

        // RFC 8291 §3.3-3.4: IKM from the ECDH secret keyed by the auth secret, bound to both public keys.
        byte[] keyInfo = [.. "WebPush: info\0"u8, .. userAgentPublic, .. asPublic];
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, ecdhSecret, 32, authSecret.ToArray(), keyInfo);
        var salt = RandomNumberGenerator.GetBytes(16);
        var cek = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 16, salt, "Content-Encoding: aes128gcm\0"u8.ToArray());
        var nonce = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 12, salt, "Content-Encoding: nonce\0"u8.ToArray());

        // RFC 8188 §2: the last (here the only) record's plaintext ends with the delimiter 0x02.
        var padded = new byte[plaintext.Length + 1];
        plaintext.CopyTo(padded);
        padded[^1] = 0x02;
        var body = new byte[16 + 4 + 1 + asPublic.Length + padded.Length + 16];
        salt.CopyTo(body, 0);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), RecordSize);
        body[20] = (byte)asPublic.Length;
        asPublic.CopyTo(body, 21);
        var cipher = body.AsSpan(21 + asPublic.Length, padded.Length);
        var tag = body.AsSpan(21 + asPublic.Length + padded.Length, 16);
        using var aes = new AesGcm(cek, 16);
        aes.Encrypt(nonce, padded, cipher, tag);
        return body;
    }

    /// <summary>An uncompressed P-256 point (0x04 || X || Y) as ECDH public parameters; throws on anything else.</summary>
    public static ECParameters PublicParameters(ReadOnlySpan<byte> point)
    {
        if (point.Length != 65 || point[0] != 0x04)
        {
            throw new CryptographicException("not an uncompressed P-256 point");
        }

        return new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = point[1..33].ToArray(), Y = point[33..65].ToArray() } };
    }
}

/// <summary>A browser's <c>PushSubscription.toJSON()</c>: the endpoint and the keys (<c>expirationTime</c> is accepted and ignored).</summary>
internal sealed record PushSubscriptionRequest(string? Endpoint, long? ExpirationTime, PushKeysRequest? Keys);

/// <param name="P256dh">The device's P-256 public key: base64url of the uncompressed point (65 bytes).</param>
/// <param name="Auth">The device's authentication secret: base64url of 16 bytes.</param>
internal sealed record PushKeysRequest(string? P256dh, string? Auth);

/// <summary>A registered device.</summary>
internal sealed record PushSubscriptionResponse(string Id, string Endpoint, DateTimeOffset CreatedAt);

/// <summary>The VAPID public key, base64url (the browser's <c>applicationServerKey</c>).</summary>
internal sealed record VapidPublicKey(string PublicKey);

/// <summary>A validated device.</summary>
internal sealed record PushDevice(Uri Endpoint, string P256dh, string Auth)
{
    public const int MaxEndpointLength = 2048;

    public static PushDevice? Validate(PushSubscriptionRequest? r, NotificationOptions options, Validation v)
    {
        Uri? endpoint = null;
        if (r?.Endpoint is not { Length: > 0 and <= MaxEndpointLength } text || !Uri.TryCreate(text, UriKind.Absolute, out endpoint))
        {
            v.Add("endpoint", $"must be an absolute URL of at most {MaxEndpointLength} characters");
        }
        else if (!string.IsNullOrEmpty(endpoint.UserInfo)
            || !(endpoint.Scheme == Uri.UriSchemeHttps
                 || (endpoint.Scheme == Uri.UriSchemeHttp && options.PushInsecureHosts.Contains(endpoint.Host, StringComparer.OrdinalIgnoreCase))))
        {
            v.Add("endpoint", "must be an https URL without user information (plain http only for the hosts in " + NotificationOptions.Section + ":PushInsecureHosts)");
        }

        if (!TryDecode(r?.Keys?.P256dh, 65, out var point) || point[0] != 0x04 || !IsPoint(point))
        {
            v.Add("keys.p256dh", "must be base64url of an uncompressed P-256 public key (65 bytes)");
        }

        if (!TryDecode(r?.Keys?.Auth, 16, out _))
        {
            v.Add("keys.auth", "must be base64url of 16 bytes");
        }

        return v.IsValid ? new PushDevice(endpoint!, r!.Keys!.P256dh!.TrimEnd('='), r.Keys.Auth!.TrimEnd('=')) : null;
    }

    public static bool TryDecode(string? text, int length, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length > 200)
        {
            return false;
        }

        var trimmed = text.TrimEnd('=');
        var buffer = new byte[Base64Url.GetMaxDecodedLength(trimmed.Length)];
        if (Base64Url.DecodeFromChars(trimmed, buffer, out var consumed, out var written) != System.Buffers.OperationStatus.Done || consumed != trimmed.Length || written != length)
        {
            return false;
        }

        bytes = buffer[..written];
        return true;
    }

    private static bool IsPoint(byte[] point)
    {
        try
        {
            using var key = ECDiffieHellman.Create(WebPushEncryption.PublicParameters(point));
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

/// <summary>A claimed Web Push delivery with what the message needs.</summary>
internal sealed record PushDelivery(long Id, string SubscriptionId, string Endpoint, string P256dh, string Auth, int Attempts, PushPayload Payload);

/// <summary>What the device's service worker receives (JSON, encrypted): enough to show the notification and open it.</summary>
internal sealed record PushPayload(string Id, string Kind, string Title, string? ActorHandle, string? ChannelId, string? VideoId, string? CommentId, DateTimeOffset CreatedAt);

/// <summary>
/// The devices (<c>push_subscriptions</c>) and the deliveries to them (<c>push_deliveries</c>, written with the
/// notification). A delivery is claimed under a lease by one conditional <c>UPDATE ... RETURNING</c> and ends deleted:
/// sent, refused for good, out of attempts, or with its device (404/410 from the push service).
/// </summary>
internal sealed class PushSubscriptionStore(Database database, TimeProvider time)
{
    private const string Upsert =
        """
        INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at) VALUES (@id, @u, @e, @p, @a, @now)
        ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth
        RETURNING id, endpoint, created_at
        """;

    private const string Claim =
        """
        UPDATE push_deliveries SET lease_owner = @o, lease_expires_at = @exp, attempts = attempts + 1
        WHERE id IN (
                SELECT id FROM push_deliveries
                WHERE run_after <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
                ORDER BY id LIMIT @n)
            AND run_after <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
        RETURNING id
        """;

    private const string Load =
        """
        SELECT d.id, p.id, p.endpoint, p.p256dh, p.auth, d.attempts,
            n.id, n.kind, n.title, a.handle, n.channel_id, n.video_id, n.comment_id, n.created_at
        FROM push_deliveries d
        JOIN push_subscriptions p ON p.id = d.subscription_id
        JOIN notifications n ON n.id = d.notification_id
        LEFT JOIN users a ON a.id = n.actor_id
        WHERE d.id = @id AND d.lease_owner = @o
        """;

    public async Task<PushSubscriptionResponse> AddAsync(string userId, PushDevice device, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await db.SingleAsync(Upsert,
            [("id", Ids.New()), ("u", userId), ("e", device.Endpoint.OriginalString), ("p", device.P256dh), ("a", device.Auth), ("now", time.GetUtcNow())],
            (r, d) => new PushSubscriptionResponse(r.GetString(0), r.GetString(1), d.ReadTimestamp(r, 2)), cancellationToken).ConfigureAwait(false))!;
    }

    public async Task RemoveAsync(string userId, string endpoint, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM push_subscriptions WHERE user_id = @u AND endpoint = @e", [("u", userId), ("e", endpoint)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The push service said the subscription is gone (404/410): the device and its pending deliveries go.</summary>
    public async Task ForgetAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM push_subscriptions WHERE id = @s", [("s", subscriptionId)], cancellationToken).ConfigureAwait(false);
    }

    public async Task<List<PushDelivery>> ClaimAsync(string owner, int count, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var ids = await db.QueryAsync(Claim, [("o", owner), ("exp", now + lease), ("now", now), ("n", count)], (r, _) => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
        ids.Sort();
        var claimed = new List<PushDelivery>(ids.Count);
        foreach (var id in ids)
        {
            if (await db.SingleAsync(Load, [("id", id), ("o", owner)], (r, d) => new PushDelivery(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
                    r.GetInt32(5), new PushPayload(r.GetInt64(6).ToString(System.Globalization.CultureInfo.InvariantCulture), r.GetString(7), r.GetString(8), Text(r, 9), Text(r, 10),
                        Text(r, 11), Text(r, 12), d.ReadTimestamp(r, 13))), cancellationToken).ConfigureAwait(false) is { } delivery)
            {
                claimed.Add(delivery);
            }
        }

        return claimed;
    }

    private static string? Text(System.Data.Common.DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    /// <summary>Sent, or given up: the delivery is done.</summary>
    public async Task DoneAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM push_deliveries WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Due again at <paramref name="after"/>. With <paramref name="wholeDevice"/> (a 429), every pending delivery to the
    /// same device waits as long, and this attempt does not count (the service asked us to wait, nothing failed).
    /// </summary>
    public async Task LaterAsync(PushDelivery delivery, DateTimeOffset after, string error, bool wholeDevice, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            "UPDATE push_deliveries SET run_after = @after, error = @e, lease_owner = NULL, lease_expires_at = NULL, attempts = attempts - @uncount WHERE id = @id",
            [("after", after), ("e", error.Length > 2000 ? error[..2000] : error), ("uncount", wholeDevice ? 1 : 0), ("id", delivery.Id)], cancellationToken).ConfigureAwait(false);
        if (wholeDevice)
        {
            await db.ExecAsync("UPDATE push_deliveries SET run_after = @after WHERE subscription_id = @s AND run_after < @after",
                [("after", after), ("s", delivery.SubscriptionId)], cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
