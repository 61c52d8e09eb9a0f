namespace StreamVerse.ControlPlane.Ledger;

/// <summary>
/// Premium viewers' watch time per channel in one calendar month (UTC): the input of the Premium pool's split. The
/// analytics feature provides the real one; until it is wired, <see cref="NoPremiumWatchTime"/> answers nothing and
/// a month's pool goes to the platform.
/// </summary>
public interface IPremiumWatchTime
{
    /// <summary>(channel id, seconds watched by premium accounts) for every channel with any, in the month starting at <paramref name="monthStart"/>.</summary>
    Task<IReadOnlyList<(string ChannelId, long Seconds)>> ForMonthAsync(DateTimeOffset monthStart, CancellationToken cancellationToken);
}

internal sealed class NoPremiumWatchTime : IPremiumWatchTime
{
    public Task<IReadOnlyList<(string ChannelId, long Seconds)>> ForMonthAsync(DateTimeOffset monthStart, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<(string, long)>>([]);
}
