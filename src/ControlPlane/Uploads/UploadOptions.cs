namespace StreamVerse.ControlPlane.Uploads;

/// <summary>Config section <c>StreamVerse:ControlPlane:Uploads</c>: resumable (tus) and single-request uploads.</summary>
internal sealed class UploadOptions
{
    public const string Section = "StreamVerse:ControlPlane:Uploads";

    /// <summary>Where partial (<c>{id}.part</c>) and finished (<c>{id}.source</c>) uploads live. Default <c>DATA/uploads</c>.</summary>
    public string? Path { get; set; }

    /// <summary>Largest Upload-Length a tus upload may declare (advertised as Tus-Max-Size).</summary>
    public long MaxSize { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>Largest body of the single-request <c>PUT /api/v1/videos/{id}/source</c>.</summary>
    public long MaxSinglePutBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>An unfinished upload untouched for this long is gone (tus expiration); each accepted PATCH renews it.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often expired uploads are removed (rows and files).</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a PATCH waits for another request on the same upload (an aborted one still unwinding) before 409.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Unfinished, unexpired uploads (tus and single-request) one account may have at once; 0: no limit. Admins are not held to it.</summary>
    public int MaxConcurrentPerAccount { get; set; } = 10;

    /// <summary>Bytes one account may start uploading in any 24 hours (the declared lengths, counted when an upload is created); 0: no limit.
    /// Admins are not held to it.</summary>
    public long MaxBytesPerDay { get; set; } = 100L * 1024 * 1024 * 1024;

    public string Directory(string dataPath) => System.IO.Path.GetFullPath(string.IsNullOrEmpty(Path) ? System.IO.Path.Combine(dataPath, "uploads") : Path);
}
