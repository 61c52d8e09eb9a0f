using System.Security.Cryptography;
using System.Text;

namespace StreamVerse.ControlPlane.Auth;

/// <summary>
/// A symmetric key from configuration, or generated once and kept in a 0600 file in a 0700 directory under the data directory so
/// tokens survive a restart. Created with <see cref="FileMode.CreateNew"/>: of two processes starting at once,
/// one writes and the other reads what it wrote. The key is never logged.
/// <para>
/// Configured or in the file, a key is written one way: the base64 of its bytes, at least <see cref="MinimumBytes"/> of
/// them. So the file's content can be configured as it is (an edge given the origin's <c>keys/playback.key</c> checks
/// the origin's tokens), and a configured key means the same bytes at the origin and at an edge.
/// </para>
/// </summary>
internal static class KeyMaterial
{
    public const int MinimumBytes = 32;

    /// <summary>What a configured key must be, for the message that names it.</summary>
    public const string Format = "the base64 of at least 32 random bytes (e.g. openssl rand -base64 32, or the content of the key file the daemon generated)";

    /// <summary>The key <paramref name="text"/> (base64, surrounding white space ignored) stands for, if it has at least <see cref="MinimumBytes"/> bytes.</summary>
    public static bool TryDecode(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? key)
    {
        key = null;
        var trimmed = text.AsSpan().Trim();
        var bytes = new byte[trimmed.Length * 3 / 4 + 3];
        if (trimmed.IsEmpty || !Convert.TryFromBase64Chars(trimmed, bytes, out var length) || length < MinimumBytes)
        {
            return false;
        }

        key = bytes[..length];
        return true;
    }

    public static byte[] LoadOrCreate(string? configured, string configKey, string path)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            if (!TryDecode(configured, out var bytes))
            {
                throw new Microsoft.Extensions.Options.OptionsValidationException(configKey, typeof(KeyMaterial),
                    [$"{configKey}: the key must be {Format}"]);
            }

            return bytes;
        }

        // The keys' directory and files are the daemon user's alone; older deployments' are narrowed here.
        Data.OwnerOnly.Directory(Path.GetDirectoryName(path)!);
        for (var attempt = 0; ; attempt++)
        {
            if (File.Exists(path))
            {
                Data.OwnerOnly.Narrow(path, Data.OwnerOnly.FileMode);
                var text = File.ReadAllText(path).Trim();
                if (text.Length > 0)
                {
                    return Convert.FromBase64String(text);
                }

                if (attempt > 50)
                {
                    throw new IOException(path + " is empty");
                }

                Thread.Sleep(20); // the other process is writing it
                continue;
            }

            var key = RandomNumberGenerator.GetBytes(MinimumBytes);
            try
            {
                var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    fileOptions.UnixCreateMode = Data.OwnerOnly.FileMode;
                }

                using var stream = new FileStream(path, fileOptions);
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key)));
                stream.Flush(flushToDisk: true);
                return key;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Lost the race: read the winner's key.
            }
        }
    }
}
