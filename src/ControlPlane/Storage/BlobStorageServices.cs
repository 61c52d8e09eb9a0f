using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Storage;

/// <summary>Registers the <see cref="IBlobStorage"/> that <c>StreamVerse:Storage:Backend</c> chooses.</summary>
internal static partial class BlobStorageServices
{
    public static IServiceCollection AddBlobStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<IBlobStorage>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return options.IsS3
                ? new S3BlobStorage(S3BlobStorage.CreateClient(options), ownsClient: true, options, sp.GetRequiredService<ILogger<S3BlobStorage>>())
                : ActivatorUtilities.CreateInstance<LocalBlobStorage>(sp);
        });
        services.AddHostedService<BlobStorageStartup>();
        return services;
    }

    /// <summary>Says at start which backend serves blobs (never a credential), and creates the bucket if asked to.</summary>
    private sealed partial class BlobStorageStartup(IBlobStorage storage, IOptions<StorageOptions> options, IOptions<ControlPlaneOptions> controlPlane,
        ILogger<BlobStorageStartup> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            if (storage is S3BlobStorage s3)
            {
                Log.Backend(logger, s3.Describe());
                if (options.Value.CreateBucket)
                {
                    await s3.EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                Log.Backend(logger, "local " + Path.Combine(Path.GetFullPath(controlPlane.Value.DataPath), "blobs"));
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        private static partial class Log
        {
            [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "Blob storage: {Backend}")]
            public static partial void Backend(ILogger logger, string backend);
        }
    }
}
