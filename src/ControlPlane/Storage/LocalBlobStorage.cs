using System.Globalization;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Storage;

/// <summary>
/// <see cref="IBlobStorage"/> on the local filesystem under <c>DATA/blobs</c>. A content type that the key's
/// extension does not imply is kept in a sidecar file. Writes go to a temporary file first and are renamed into
/// place, so a reader never sees half an object.
/// </summary>
internal sealed class LocalBlobStorage(IOptions<ControlPlaneOptions> options) : IBlobStorage
{
    private const string TypeSuffix = BlobKeys.TypeSuffix;
    private readonly string _root = Path.Combine(Path.GetFullPath(options.Value.DataPath), "blobs");

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var temp = TempFor(path);
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await file.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            }

            await CommitAsync(temp, path, key, contentType, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task PutFileAsync(string key, string localPath, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var temp = TempFor(path);
        try
        {
            await using (var source = new FileStream(localPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await source.CopyToAsync(file, 256 * 1024, cancellationToken).ConfigureAwait(false);
            }

            await CommitAsync(temp, path, key, contentType, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<(Stream Content, string ContentType)?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult<(Stream, string)?>(null);
        }

        try
        {
            return Task.FromResult<(Stream, string)?>((File.OpenRead(path), TypeOf(path, key)));
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<(Stream, string)?>(null);
        }
    }

    public Task<BlobInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var file = new FileInfo(path);
        return Task.FromResult(file.Exists ? InfoOf(file, key) : null);
    }

    public Task<BlobRead?> OpenReadAsync(string key, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = PathOf(key);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<BlobRead?>(null);
        }

        var info = InfoOf(new FileInfo(path), key);
        var end = length is null ? info.Length : Math.Min(info.Length, offset + length.Value);
        stream.Position = Math.Min(offset, info.Length);
        return Task.FromResult<BlobRead?>(new BlobRead(new BoundedReadStream(stream, Math.Max(0, end - stream.Position)), info));
    }

    public string? LocalPathOf(string key) => PathOf(key);

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            File.Delete(path);
            File.Delete(path + TypeSuffix);
        }
        catch (DirectoryNotFoundException)
        {
            // Deleting what is not there succeeds, as on S3; File.Delete only tolerates a missing file, not a missing folder.
        }

        return Task.CompletedTask;
    }

    public Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var directory = PathOf(prefix);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static string TempFor(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path + "." + Guid.NewGuid().ToString("N") + ".tmp";
    }

    private static async Task CommitAsync(string temp, string path, string key, string contentType, CancellationToken cancellationToken)
    {
        if (string.Equals(contentType, MediaContentTypes.Of(key), StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(path + TypeSuffix);
        }
        else
        {
            await File.WriteAllTextAsync(path + TypeSuffix, contentType, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static BlobInfo InfoOf(FileInfo file, string key)
    {
        var modified = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
        var etag = string.Create(CultureInfo.InvariantCulture, $"\"{file.Length:x}-{modified.UtcTicks:x}\"");
        return new BlobInfo(file.Length, TypeOf(file.FullName, key), etag, modified);
    }

    private static string TypeOf(string path, string key)
    {
        var sidecar = path + TypeSuffix;
        return File.Exists(sidecar) ? File.ReadAllText(sidecar) : MediaContentTypes.Of(key);
    }

    private string PathOf(string key)
    {
        BlobKeys.ThrowIfUnsafe(key);
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }
}

/// <summary>A read-only view of at most <c>remaining</c> bytes of an inner stream, which it owns.</summary>
internal sealed class BoundedReadStream(Stream inner, long remaining) : ForwardOnlyReadStream
{
    private long _remaining = remaining;

    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0)
        {
            return 0;
        }

        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0)
        {
            return 0;
        }

        var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        _remaining -= n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
