using System.Globalization;
using System.Text;
using StreamVerse.ControlPlane.Uploads;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// The tus request headers, each parser given the whole input as its header value (UTF-8, replacement characters
/// included: whatever string Kestrel could hand over). Invariants: no exception; Upload-Length/-Offset is taken only as
/// digits and prints back as itself (leading zeros aside); Upload-Metadata gives non-empty keys without space or comma,
/// and the pairs, written back as tus says, parse to the same pairs; Upload-Checksum's digest has its algorithm's
/// length; allocation follows the input.
/// </summary>
internal static class TusHeadersTarget
{
    public static void Run(byte[] input)
    {
        var value = Encoding.UTF8.GetString(input);
        var mark = Check.AllocationMark();

        if (TusProtocol.TryParseLength(value, out var length))
        {
            Check.That(length >= 0 && value.Length > 0 && !value.AsSpan().ContainsAnyExceptInRange('0', '9'), $"Upload-Length '{value}' taken as {length}");
            var trimmed = value.TrimStart('0');
            Check.That(length.ToString(CultureInfo.InvariantCulture) == (trimmed.Length == 0 ? "0" : trimmed), $"Upload-Length '{value}' taken as {length}");
        }
        else
        {
            Check.That(length == 0, "a refused Upload-Length left a value behind");
        }

        var metadata = TusProtocol.ParseMetadata(value);
        if (metadata is not null)
        {
            foreach (var key in metadata.Keys)
            {
                Check.That(key.Length > 0 && !key.Contains(' ', StringComparison.Ordinal) && !key.Contains(',', StringComparison.Ordinal), $"metadata key '{key}'");
            }

            var written = string.Join(',', metadata.Select(p => p.Value.Length == 0 ? p.Key : p.Key + " " + Convert.ToBase64String(Encoding.UTF8.GetBytes(p.Value))));
            var again = TusProtocol.ParseMetadata(written);
            Check.That(again is not null && again.Count == metadata.Count && metadata.All(p => again.TryGetValue(p.Key, out var v) && v == p.Value),
                $"metadata '{written}' (from '{value}') does not read back the same");
        }

        if (TusProtocol.TryParseChecksum(value, out var algorithm, out var digest))
        {
            var expected = algorithm.Name switch { "SHA1" => 20, "MD5" => 16, "SHA256" => 32, _ => -1 };
            Check.That(digest.Length == expected, $"a {algorithm.Name} digest of {digest.Length} bytes");
        }

        Check.AllocatedAtMost(mark, input.Length, 64, "tus header parsing");
    }
}
