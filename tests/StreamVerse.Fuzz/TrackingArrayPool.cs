using System.Buffers;

namespace StreamVerse.Fuzz;

/// <summary>
/// An <see cref="ArrayPool{T}"/> that hands out arrays of exactly the size asked for and keeps account: how many bytes
/// are out, and that every array comes back once, and only arrays it handed out.
/// </summary>
internal sealed class TrackingArrayPool : ArrayPool<byte>
{
    private readonly HashSet<byte[]> _out = new(ReferenceEqualityComparer.Instance);

    public long OutstandingBytes { get; private set; }

    public override byte[] Rent(int minimumLength)
    {
        Check.That(minimumLength >= 0, $"Rent({minimumLength})");
        var array = new byte[minimumLength];
        _out.Add(array);
        OutstandingBytes += minimumLength;
        return array;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        Check.That(_out.Remove(array), "an array returned to the pool twice, or one the pool never handed out");
        OutstandingBytes -= array.Length;
    }
}
