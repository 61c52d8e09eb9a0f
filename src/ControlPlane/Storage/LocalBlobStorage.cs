using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Storage;

/// <summary>
/// <see cref="IBlobStorage"/> on the local filesystem under <c>DATA/blobs</c>. The content type is kept in a
/// sidecar file. Writes go to a temporary file first and are renamed into place, so a reader never sees half
/// an object.
/// </summary>
internal sealed class LocalBlobStorage(IOptions<ControlPlaneOptions> options) : IBlobStorage
{
    private readonly string _root = Path.Combine(Path.GetFullPath(options.Value.DataPath), "blobs");

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temp, content.ToArray(), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(path + ".type", contentType, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }

    public Task<(Stream Content, string ContentType)?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult<(Stream, string)?>(null);
        }

        var type = File.Exists(path + ".type") ? File.ReadAllText(path + ".type") : "application/octet-stream";
        return Task.FromResult<(Stream, string)?>((File.OpenRead(path), type));
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        File.Delete(path);
        File.Delete(path + ".type");
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        foreach (var part in key.Split('/'))
        {
            if (part.Length == 0 || part[0] == '.' || part.AsSpan().ContainsAnyExcept(SafeChars))
            {
                throw new ArgumentException("unsafe blob key", nameof(key));
            }
        }

        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    private static readonly System.Buffers.SearchValues<char> SafeChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");
}
