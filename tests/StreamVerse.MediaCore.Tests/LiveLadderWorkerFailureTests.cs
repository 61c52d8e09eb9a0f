using Microsoft.Extensions.Logging;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Live;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.MediaCore.Tests;

/// <summary>
/// The ladder's thread is the daemon's: an exception that left it would end the process and every stream with it.
/// Whatever a rung's sink throws, the ladder ends, says why, and the caller (the source rendition) goes on.
/// </summary>
public sealed class LiveLadderWorkerFailureTests
{
    public enum Throws
    {
        OnConfig,
        OnSample,
        OnEnd,
    }

    private sealed class Sink(Throws throws) : IMediaSink
    {
        public int Samples;
        public int Ends;

        public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
        {
            if (throws == Throws.OnConfig)
            {
                throw new ArgumentException("a rung that refuses its configuration");
            }
        }

        public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig)
        {
        }

        public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
        {
            if (throws == Throws.OnSample && ++Samples > 10)
            {
                throw new ArgumentException("a rung that fails mid-stream");
            }
        }

        public void OnEnd()
        {
            Ends++;
            if (throws == Throws.OnEnd)
            {
                throw new ObjectDisposedException("rung", "a rung that fails to end");
            }
        }
    }

    private sealed class Logger : ILogger
    {
        public List<(LogLevel Level, EventId Id, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, eventId, exception));
            }
        }
    }

    [Theory]
    [InlineData(Throws.OnConfig)]
    [InlineData(Throws.OnSample)]
    public async Task A_rung_sink_that_throws_ends_the_ladder_logged_and_every_rung_is_ended(Throws throws)
    {
        LibAv.EnsureInitialized();
        // The live ladder tests' 480x270 publish; the worker takes its video.
        var samples = FlvReader.Read(LiveLadderSinkTests.Source());
        var avcC = samples.First(s => s.IsConfig && s.Track == TrackKind.Video).Data;
        var failing = new Sink(throws);
        var endFails = new Sink(Throws.OnEnd);
        var logger = new Logger();
        var worker = new LiveLadderWorker("failing", avcC, 25, LadderPlanner.Plan(480, 270, LiveLadderSinkTests.TwoRungs), [failing, endFails],
            new LiveLadderSettings(LiveLadderSinkTests.TwoRungs, "ultrafast", QueueFrames: throws == Throws.OnConfig ? 8 : 1000), logger, onDroppedGop: null);
        worker.Start();
        if (throws == Throws.OnConfig)
        {
            // The worker fails before the first frame: it ends without the publisher having ended.
            await worker.Finished.WaitAsync(TimeSpan.FromSeconds(60));
        }

        // The ingest thread goes on feeding (the source rendition keeps playing); a failed ladder takes nothing more.
        foreach (var s in samples.Where(s => !s.IsConfig && s.Track == TrackKind.Video))
        {
            worker.Enqueue(s.Dts, s.Pts, s.IsKeyframe, s.Data);
            await Task.Yield();
        }

        worker.Complete();
        await worker.Finished.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal((1, 1), (failing.Ends, endFails.Ends));
        List<(LogLevel Level, EventId Id, Exception? Exception)> entries;
        lock (logger.Entries)
        {
            entries = [.. logger.Entries];
        }

        Assert.Contains(entries, e => e.Level == LogLevel.Error && e.Exception is ArgumentException);
        Assert.Contains(entries, e => e.Level >= LogLevel.Warning && e.Exception is ObjectDisposedException);
        if (throws == Throws.OnConfig)
        {
            Assert.Equal(0, worker.DroppedGops);
        }
    }
}
