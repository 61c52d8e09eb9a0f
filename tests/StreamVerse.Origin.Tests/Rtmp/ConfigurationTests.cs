using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prometheus;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class ConfigurationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IServiceCollection>? before = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        before?.Invoke(services);
        services.AddRtmp(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Key_resolver_maps_keys_to_names_and_checks_the_app()
    {
        using var sp = Build(new() { ["StreamVerse:Streams:cam1"] = "secret", ["StreamVerse:Streams:cam2"] = "other", ["StreamVerse:Streams:off"] = "" });
        var resolver = sp.GetRequiredService<IStreamKeyResolver>();
        Assert.True(resolver.TryResolve("live", "secret", out var name));
        Assert.Equal("cam1", name);
        Assert.True(resolver.TryResolve("live", "other", out name));
        Assert.Equal("cam2", name);
        Assert.False(resolver.TryResolve("live", "secre", out _));
        Assert.False(resolver.TryResolve("live", "", out _));
        Assert.False(resolver.TryResolve("vod", "secret", out _));
    }

    [Fact]
    public void The_host_publish_target_is_used_and_the_key_resolver_defaults_to_configuration()
    {
        var target = new RecordingPublishTarget();
        using var sp = Build([], s => s.AddSingleton<ILivePublishTarget>(target));
        Assert.Same(target, sp.GetRequiredService<ILivePublishTarget>());
        Assert.IsType<ConfigurationStreamKeyResolver>(sp.GetRequiredService<IStreamKeyResolver>());
    }

    [Fact]
    public void Bad_options_fail_validation_naming_the_key()
    {
        using var sp = Build(new() { ["StreamVerse:Rtmp:OutboundChunkSize"] = "1" });
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<RtmpOptions>>().Value);
        Assert.Contains("OutboundChunkSize", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_pass_promtool()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new RtmpMetrics(Metrics.WithCustomRegistry(registry));
        metrics.Connections.Inc();
        metrics.Publishers.Inc();
        metrics.Publishes.Inc();
        metrics.ReceivedBytes.Inc(1234);
        foreach (var reason in new[] { "bad_key", "duplicate", "protocol", "unsupported_codec", "timeout" })
        {
            metrics.Reject(reason);
        }

        using var text = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(text);
        var exposition = System.Text.Encoding.UTF8.GetString(text.ToArray());
        Assert.Contains("streamverse_rtmp_rejected_total{reason=\"bad_key\"} 1", exposition, StringComparison.Ordinal);

        var info = new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var promtool = Process.Start(info)!;
        await promtool.StandardInput.WriteAsync(exposition);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0, output);
        Assert.Equal(string.Empty, output.Trim());
    }
}
