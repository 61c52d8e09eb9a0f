using Microsoft.Extensions.Logging;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Probe;
using StreamVerse.MediaCore.Tests.Infrastructure;

namespace StreamVerse.MediaCore.Tests;

/// <summary>av_log has one process-wide callback: tests that install it run one at a time.</summary>
[Collection("av_log")]
public sealed class AvLogTests
{
    [Fact]
    public void Av_log_lines_reach_the_logger_formatted()
    {
        var logger = new CapturingLogger();
        AvLog.Install(logger);
        var path = Path.Combine(Tools.TempRoot, "garbage-for-log.h264");
        File.WriteAllBytes(path, [0, 0, 0, 1, 0x67, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0x68, 0xFF, 0, 0, 0, 1, 0x65, 0xFF, 0xFF]);
        try
        {
            MediaProbe.Probe(path);
        }
        catch (MediaProbeException)
        {
        }

        // The h264 parser complains about the garbage SPS through av_log; the prefix names the component.
        // (The callback is process-wide: ladders running in parallel tests log here too, hence the snapshot.)
        List<(LogLevel Level, string Text)> lines;
        lock (logger.Lines)
        {
            lines = [.. logger.Lines];
        }

        Assert.Contains(lines, l => l.Level >= LogLevel.Warning && l.Text.StartsWith("libav: [", StringComparison.Ordinal));
        // Formatted by av_log_format_line2, not the raw format string (x264's stats legitimately contain "12.5%").
        Assert.DoesNotContain(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l.Text, @"%(\d*|l{0,2}|z)[sdux]\b"));
    }

    internal sealed class CapturingLogger : ILogger
    {
        public List<(LogLevel Level, string Text)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}

[Collection("av_log")]
public sealed class ServiceRegistrationTests
{
    [Fact]
    public async Task AddMediaCore_checks_libav_at_start_and_provides_the_transcoder()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Microsoft.Extensions.DependencyInjection.LoggingServiceCollectionExtensions.AddLogging(services);
        MediaCoreServiceCollectionExtensions.AddMediaCore(services);
        await using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        foreach (var hosted in Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<Microsoft.Extensions.Hosting.IHostedService>(provider))
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        Assert.NotNull(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetService<StreamVerse.MediaCore.Transcode.Transcoder>(provider));
    }
}
