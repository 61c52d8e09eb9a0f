using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Transcode;

namespace StreamVerse.MediaCore;

public static class MediaCoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="Transcoder"/> and a start-up check that loads libav 5.1 (refusing any other version
    /// with a clear message) and routes av_log into logging under the category "StreamVerse.MediaCore.LibAv".
    /// </summary>
    public static IServiceCollection AddMediaCore(this IServiceCollection services)
    {
        services.AddSingleton<Transcoder>();
        services.AddHostedService<LibAvStartup>();
        return services;
    }

    private sealed class LibAvStartup(ILoggerFactory loggers) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LibAv.EnsureInitialized();
            AvLog.Install(loggers.CreateLogger("StreamVerse.MediaCore.LibAv"), level: 24 /* AV_LOG_WARNING */);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
