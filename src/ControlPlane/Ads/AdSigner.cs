using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>
/// The ads key (<c>{data}/keys/ads.key</c>, or <c>StreamVerse:ControlPlane:Ads:SigningKey</c>): HMAC-SHA256 over a
/// tracking beacon's impression id, creative, content video, viewer and event, so a beacon cannot be forged or moved to
/// another impression, creative or event; and the keyed hash that turns an account id or an anonymous tab id into the
/// viewer key of frequency capping (the raw ids are never stored, and no address is used).
/// </summary>
internal sealed class AdSigner
{
    private readonly byte[] _key;

    public AdSigner(IOptions<AdOptions> options, IOptions<ControlPlaneOptions> controlPlane)
        : this(Auth.KeyMaterial.LoadOrCreate(options.Value.SigningKey, AdOptions.Section + ":SigningKey",
            Path.Combine(Path.GetFullPath(controlPlane.Value.DataPath), "keys", "ads.key")))
    {
    }

    internal AdSigner(byte[] key) => _key = key;

    /// <summary>The viewer key: an account (<c>u:</c>) and an anonymous tab (<c>t:</c>) never collide; "" when neither is known.</summary>
    public string Viewer(string? accountId, string? tabId) =>
        accountId is not null ? Mac("viewer\nu:" + accountId)[..22]
        : string.IsNullOrEmpty(tabId) ? ""
        : Mac("viewer\nt:" + tabId)[..22];

    public string Sign(string impression, string creative, string video, string viewer, string @event) =>
        Mac($"track\n{impression}\n{creative}\n{video}\n{viewer}\n{@event}");

    public bool Verify(string impression, string creative, string video, string viewer, string @event, string? signature) =>
        signature is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(impression, creative, video, viewer, @event)), Encoding.ASCII.GetBytes(signature));

    private string Mac(string text) => Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(text)));
}
