using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StreamVerse.ControlPlane.Jobs;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// The daemon with small upload limits (tus max 64 MiB: above Kestrel's 30 MB default body limit; single PUT 1 MiB) and the recording job queue in place of
/// any real one, so a test sees exactly what an upload handed over.
/// </summary>
public abstract class UploadsApp : ControlPlaneApp
{
    public const long MaxSize = 64 * 1024 * 1024;
    public const long MaxSinglePut = 1024 * 1024;

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Uploads:MaxSize", MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--StreamVerse:ControlPlane:Uploads:MaxSinglePutBytes", MaxSinglePut.ToString(System.Globalization.CultureInfo.InvariantCulture),
        .. UploadArgs,
    ];

    protected virtual IEnumerable<string> UploadArgs => [];

    public string UploadsDir => Path.Combine(DataDir, "uploads");

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.RemoveAll<IVideoJobQueue>();
        services.AddSingleton<IVideoJobQueue>(Jobs);
    }
}

public sealed class UploadsSqliteApp : UploadsApp
{
    public override string Provider => "sqlite";
}

public sealed class UploadsPostgresApp : UploadsApp
{
    public override string Provider => "postgres";
}

/// <summary>Uploads expire 2 s after their last write; the periodic cleaner is slow (1 h) so a test drives the sweep.</summary>
public abstract class ExpiringUploadsApp : UploadsApp
{
    protected override IEnumerable<string> UploadArgs =>
        ["--StreamVerse:ControlPlane:Uploads:Expiry", "00:00:02", "--StreamVerse:ControlPlane:Uploads:CleanupInterval", "01:00:00"];
}

public sealed class ExpiringUploadsSqliteApp : ExpiringUploadsApp
{
    public override string Provider => "sqlite";
}

public sealed class ExpiringUploadsPostgresApp : ExpiringUploadsApp
{
    public override string Provider => "postgres";
}
