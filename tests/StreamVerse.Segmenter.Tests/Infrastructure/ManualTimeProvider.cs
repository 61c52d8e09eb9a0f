namespace StreamVerse.Segmenter.Tests.Infrastructure;

/// <summary>Wall clock under test control; timestamps and timers stay real (waits are real but short).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
