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
        using var sp = Build(new() { ["StreamVerse:Streams:cam1"] = "secret-0123456789", ["StreamVerse:Streams:cam2"] = "other-0123456789", ["StreamVerse:Streams:off"] = "" });
        var resolver = Assert.IsType<ConfigurationStreamKeyResolver>(sp.GetRequiredService<IStreamKeyResolver>());
        Assert.True(resolver.TryResolve("live", "secret-0123456789", out var name));
        Assert.Equal("cam1", name);
        Assert.True(resolver.TryResolve("live", "other-0123456789", out name));
        Assert.Equal("cam2", name);
        Assert.False(resolver.TryResolve("live", "secret-012345678", out _));
        Assert.False(resolver.TryResolve("live", "", out _));
        Assert.False(resolver.TryResolve("vod", "secret-0123456789", out _));
        _ = sp.GetRequiredService<IOptions<RtmpOptions>>().Value; // 16 characters and more pass the start-up check
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
    public void A_static_stream_key_shorter_than_16_characters_fails_start_up_naming_the_stream_not_the_key()
    {
        using var sp = Build(new() { ["StreamVerse:Streams:cam1"] = "k3y-cam1-Secret", ["StreamVerse:Streams:cam2"] = "a-long-enough-key!" });
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<RtmpOptions>>().Value);
        Assert.Contains("StreamVerse:Streams:cam1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cam2", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("k3y-cam1-Secret", ex.Message, StringComparison.Ordinal);
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
