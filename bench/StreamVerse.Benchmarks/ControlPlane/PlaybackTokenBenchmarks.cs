using System.Net;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.Benchmarks.ControlPlane;

/// <summary>
/// The origin's per-request playback check: base64url decode into a stack buffer, one HMAC-SHA256 into a span,
/// a fixed-time compare. Expected: zero allocations per verification.
/// </summary>
[MemoryDiagnoser]
public class PlaybackTokenBenchmarks
{
    private readonly PlaybackTokens _tokens = new(RandomNumberGenerator.GetBytes(32));
    private readonly byte[] _ip = IPAddress.Loopback.MapToIPv6().GetAddressBytes();
    private long _now;
    private string _token = "";
    private string _ipBoundToken = "";
    private string _forged = "";

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _token = _tokens.Issue("Xy3_kLm9-QwErTy0", DateTimeOffset.UtcNow.AddHours(1), "viewer-0123456789", null);
        _ipBoundToken = _tokens.Issue("Xy3_kLm9-QwErTy0", DateTimeOffset.UtcNow.AddHours(1), "viewer-0123456789", IPAddress.Loopback);
        _forged = _token[..^4] + "AAAA";
    }

    [Benchmark(Baseline = true)]
    public bool Verify() => _tokens.Verify(_token, "Xy3_kLm9-QwErTy0", _now, default);

    [Benchmark]
    public bool VerifyIpBound() => _tokens.Verify(_ipBoundToken, "Xy3_kLm9-QwErTy0", _now, _ip);

    [Benchmark]
    public bool RejectForged() => _tokens.Verify(_forged, "Xy3_kLm9-QwErTy0", _now, default);
}
