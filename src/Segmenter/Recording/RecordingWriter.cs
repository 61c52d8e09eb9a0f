using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace StreamVerse.Segmenter.Recording;

/// <summary>
/// Writes recordings off the ingest thread: a bounded queue drained by one background task. Ingest only
/// ever calls <see cref="TryWrite"/>, which drops (and logs) rather than wait when the disk falls behind.
/// Every file is written to a temporary name and renamed, so a reader never sees half a file.
/// </summary>
internal sealed partial class RecordingWriter : IAsyncDisposable
{
    private readonly Channel<Job> _channel;
    private readonly ILogger _logger;
    private readonly Task _loop;

    public RecordingWriter(ILogger logger, int capacity = 4096)
    {
        _logger = logger;
        _channel = Channel.CreateBounded<Job>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues a file write without waiting; false (logged) when the queue is full.</summary>
    public bool TryWrite(string path, ReadOnlyMemory<byte>[] chunks)
    {
        if (_channel.Writer.TryWrite(new Job(path, chunks, null)))
        {
            return true;
        }

        Log.Dropped(_logger, path);
        return false;
    }

    /// <summary>Queues a file write, waiting for room (not for the write itself).</summary>
    public ValueTask WriteAsync(string path, ReadOnlyMemory<byte>[] chunks, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync(new Job(path, chunks, null), cancellationToken);

    /// <summary>Completes when everything queued before this call has been written (or has failed).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _channel.Writer.WriteAsync(new Job(null, null, done), cancellationToken).ConfigureAwait(false);
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        await foreach (var job in _channel.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (job.Done is not null)
            {
                job.Done.TrySetResult();
                continue;
            }

            try
            {
                await WriteFileAsync(job.Path!, job.Chunks!).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // One bad write must not stop the recorder for every stream.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.WriteFailed(_logger, job.Path!, ex);
            }
        }
    }

    internal static async Task WriteFileAsync(string path, ReadOnlyMemory<byte>[] chunks)
    {
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var temp = path + ".tmp";
        var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            foreach (var chunk in chunks)
            {
                await stream.WriteAsync(chunk).ConfigureAwait(false);
            }
        }

        File.Move(temp, path, overwrite: true);
    }

    private sealed record Job(string? Path, ReadOnlyMemory<byte>[]? Chunks, TaskCompletionSource? Done);

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Warning, "Recording queue full, dropped {Path}")]
        public static partial void Dropped(ILogger logger, string path);

        [LoggerMessage(2102, LogLevel.Error, "Recording write failed for {Path}")]
        public static partial void WriteFailed(ILogger logger, string path, Exception exception);
    }
}
