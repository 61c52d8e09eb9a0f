using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StreamVerse.ControlPlane.Uploads;

/// <summary>
/// The tus 1.0.0 resumable upload protocol (https://tus.io/protocols/resumable-upload): header names, the
/// extensions we serve, and the parsers for the headers a client sends. Pure functions, no HTTP.
/// </summary>
internal static class TusProtocol
{
    public const string Version = "1.0.0";

    /// <summary>"core" is implied; creation-with-upload and creation-defer-length are not offered.</summary>
    public const string Extensions = "creation,termination,checksum,expiration";

    /// <summary>Checksum extension: sha1 is the one every server MUST support; md5 and sha256 are extras.</summary>
    public const string ChecksumAlgorithms = "sha1,md5,sha256";

    /// <summary>tus §PATCH: the only body type a PATCH may carry.</summary>
    public const string OffsetOctetStream = "application/offset+octet-stream";

    /// <summary>tus checksum extension: "460 Checksum Mismatch".</summary>
    public const int ChecksumMismatch = 460;

    public const string TusResumable = "Tus-Resumable";
    public const string TusVersion = "Tus-Version";
    public const string TusExtension = "Tus-Extension";
    public const string TusMaxSize = "Tus-Max-Size";
    public const string TusChecksumAlgorithm = "Tus-Checksum-Algorithm";
    public const string UploadLength = "Upload-Length";
    public const string UploadOffset = "Upload-Offset";
    public const string UploadMetadata = "Upload-Metadata";
    public const string UploadExpires = "Upload-Expires";
    public const string UploadChecksum = "Upload-Checksum";
    public const string UploadDeferLength = "Upload-Defer-Length";
    public const string UploadConcat = "Upload-Concat";

    /// <summary>Request headers a browser tus client sends (CORS preflight allow-list).</summary>
    public static readonly string[] RequestHeaders = [TusResumable, UploadLength, UploadOffset, UploadMetadata, UploadChecksum, UploadDeferLength, UploadConcat];

    /// <summary>Response headers a browser tus client must be able to read (CORS expose list).</summary>
    public static readonly string[] ResponseHeaders = [TusResumable, TusVersion, TusExtension, TusMaxSize, TusChecksumAlgorithm, UploadLength, UploadOffset, UploadMetadata, UploadExpires];

    /// <summary>Upload-Length and Upload-Offset: "a non-negative integer" (digits only; no sign, no spaces).</summary>
    public static bool TryParseLength(string? value, out long result)
    {
        result = 0;
        return !string.IsNullOrEmpty(value) && value.Length <= 19 && value.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0
            && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result);
    }

    /// <summary>
    /// tus §Upload-Metadata: comma-separated pairs of a key (non-empty, no spaces or commas, unique) and a base64
    /// value separated by one space; the space and value may be left out for an empty value.
    /// </summary>
    public static Dictionary<string, string>? ParseMetadata(string? header)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(header))
        {
            return result;
        }

        foreach (var rawPair in header.Split(','))
        {
            var pair = rawPair.Trim();
            var space = pair.IndexOf(' ', StringComparison.Ordinal);
            var key = space < 0 ? pair : pair[..space];
            var encoded = space < 0 ? "" : pair[(space + 1)..];
            if (key.Length == 0 || encoded.Contains(' ', StringComparison.Ordinal) || result.ContainsKey(key))
            {
                return null;
            }

            try
            {
                result[key] = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return result;
    }

    /// <summary>
    /// tus checksum extension: <c>Upload-Checksum: {algorithm} {base64 digest}</c>. Returns false for a malformed
    /// header or an algorithm we do not offer (both are 400); the digest's length is checked against the algorithm.
    /// </summary>
    public static bool TryParseChecksum(string header, out HashAlgorithmName algorithm, out byte[] digest)
    {
        algorithm = default;
        digest = [];
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return false;
        }

        int size;
        switch (header[..space].ToLowerInvariant())
        {
            case "sha1":
                algorithm = HashAlgorithmName.SHA1;
                size = 20;
                break;
            case "md5":
                algorithm = HashAlgorithmName.MD5;
                size = 16;
                break;
            case "sha256":
                algorithm = HashAlgorithmName.SHA256;
                size = 32;
                break;
            default:
                return false;
        }

        try
        {
            digest = Convert.FromBase64String(header[(space + 1)..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        return digest.Length == size;
    }

    /// <summary>RFC 9110 §5.6.7 IMF-fixdate, what Upload-Expires carries.</summary>
    public static string HttpDate(DateTimeOffset instant) => instant.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture);
}
