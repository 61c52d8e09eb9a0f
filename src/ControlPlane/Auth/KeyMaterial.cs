using System.Security.Cryptography;
using System.Text;

namespace StreamVerse.ControlPlane.Auth;

/// <summary>
/// A symmetric key from configuration, or generated once and kept in a 0600 file in a 0700 directory under the data directory so
/// tokens survive a restart. Created with <see cref="FileMode.CreateNew"/>: of two processes starting at once,
/// one writes and the other reads what it wrote. The key is never logged.
/// </summary>
internal static class KeyMaterial
{
    public const int MinimumBytes = 32;

    public static byte[] LoadOrCreate(string? configured, string configKey, string path)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            var bytes = Encoding.UTF8.GetBytes(configured);
            if (bytes.Length < MinimumBytes)
            {
                throw new Microsoft.Extensions.Options.OptionsValidationException(configKey, typeof(KeyMaterial),
                    [$"{configKey}: the key must be at least {MinimumBytes} bytes (e.g. openssl rand -base64 48)"]);
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
