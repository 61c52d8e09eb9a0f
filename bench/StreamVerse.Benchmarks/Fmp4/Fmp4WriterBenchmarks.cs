using BenchmarkDotNet.Attributes;
using StreamVerse.Segmenter.Fmp4;

namespace StreamVerse.Benchmarks.Fmp4;

/// <summary>
/// Writing one LL-HLS part (moof + mdat). The allocating variants allocate exactly the output buffer
/// (what the segmenter keeps); the "Into" variants write into a reused buffer and must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class Fmp4WriterBenchmarks
{
    private FragmentSample[] _video = [];
    private byte[] _videoData = [];
    private FragmentSample[] _audio = [];
    private byte[] _audioData = [];
    private byte[] _output = [];
    private uint _sequence;

    /// <summary>Samples per part: 12 video frames (0.48 s at 25 fps) or 23 AAC frames.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _video = new FragmentSample[12];
        var videoBytes = 0;
        for (var i = 0; i < _video.Length; i++)
        {
            var size = i == 0 ? 60_000 : random.Next(2_000, 12_000);
            _video[i] = new FragmentSample { Duration = 3600, Size = size, CompositionOffset = (i % 3) * 3600, IsSync = i == 0 };
            videoBytes += size;
        }

        _videoData = new byte[videoBytes];
        random.NextBytes(_videoData);

        _audio = new FragmentSample[23];
        for (var i = 0; i < _audio.Length; i++)
        {
            _audio[i] = new FragmentSample { Duration = 1024, Size = 380, IsSync = true };
        }

        _audioData = new byte[23 * 380];
        random.NextBytes(_audioData);
        _output = new byte[FragmentWriter.GetSize(_video.Length, _videoData.Length, video: true)];
    }

    /// <summary>The peer: copying the part's sample bytes into a buffer, the floor for any fMP4 muxer.</summary>
    [Benchmark(Baseline = true)]
    public int VideoCopyOnly()
    {
        _videoData.CopyTo(_output, 0);
        return _videoData.Length;
    }

    [Benchmark]
    public byte[] VideoPart()
    {
        var bytes = new byte[FragmentWriter.GetSize(_video.Length, _videoData.Length, video: true)];
        FragmentWriter.Write(bytes, ++_sequence, 900_000, _video, _videoData, video: true);
        return bytes;
    }

    [Benchmark]
    public int VideoPartInto() => FragmentWriter.Write(_output, ++_sequence, 900_000, _video, _videoData, video: true);

    [Benchmark]
    public byte[] AudioPart()
    {
        var bytes = new byte[FragmentWriter.GetSize(_audio.Length, _audioData.Length, video: false)];
        FragmentWriter.Write(bytes, ++_sequence, 480_000, _audio, _audioData, video: false);
        return bytes;
    }

    [Benchmark]
    public int AudioPartInto() => FragmentWriter.Write(_output, ++_sequence, 480_000, _audio, _audioData, video: false);
}
