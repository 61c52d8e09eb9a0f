namespace StreamVerse.ControlPlane.Data;

/// <summary>
/// Files and directories under the data directory that hold secrets (key files) or e-mails and password hashes
/// (the embedded database): readable by the daemon's user only, whatever the umask it was started with (systemd
/// gives 0077, a shell usually 0022). Modes are set at creation, so there is no moment at which the file is wider,
/// and an existing one is narrowed at start (a deployment made before this rule). Windows: its ACLs are left as
/// the directory's.
/// </summary>
internal static class OwnerOnly
{
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> (and missing parents) as a 0700 directory, or narrows an existing one to 0700.</summary>
    public static void Directory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
            return;
        }

        // Parents, if any are missing, get the umask's mode: only the last directory holds the secrets.
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        System.IO.Directory.CreateDirectory(path, DirectoryMode);
        Narrow(path, DirectoryMode);
    }

    /// <summary>Creates an empty 0600 file at <paramref name="path"/> unless one exists, and narrows an existing one to 0600.</summary>
    public static void File(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            using var _ = new FileStream(path, new FileStreamOptions
            {
                Mode = System.IO.FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = FileMode,
            });
        }
        catch (IOException) when (System.IO.File.Exists(path))
        {
            Narrow(path, FileMode);
        }
    }

    /// <summary>Narrows an existing file or directory to <paramref name="mode"/>; a missing one is left missing.</summary>
    public static void Narrow(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows() || !Path.Exists(path))
        {
            return;
        }

        var current = System.IO.File.GetUnixFileMode(path);
        if ((current & ~mode) != 0)
        {
            System.IO.File.SetUnixFileMode(path, current & mode);
        }
    }
}
