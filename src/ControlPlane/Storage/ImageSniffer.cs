namespace StreamVerse.ControlPlane.Storage;

/// <summary>Recognises an image by its magic bytes, not by what the client claims it is.</summary>
internal static class ImageSniffer
{
    public static string? ContentType(ReadOnlySpan<byte> data)
    {
        // PNG: 89 50 4E 47 0D 0A 1A 0A (PNG spec §5.2).
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "image/png";
        }

        // JPEG: SOI FF D8 followed by a marker FF.
        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "image/jpeg";
        }

        // WebP: "RIFF" size "WEBP".
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        return null;
    }
}
