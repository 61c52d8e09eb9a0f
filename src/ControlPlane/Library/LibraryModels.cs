using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Discovery;

namespace StreamVerse.ControlPlane.Library;

/// <summary>Where the viewer stopped in a video (<c>PUT /api/v1/me/history/{videoId}</c>).</summary>
/// <param name="PositionSeconds">Seconds from the start, 0 to 604800.</param>
internal sealed record PositionRequest(double? PositionSeconds)
{
    public const double Max = 7 * 24 * 3600;

    public static double? Validate(PositionRequest? r, Validation v)
    {
        if (r?.PositionSeconds is not { } p)
        {
            v.Add("positionSeconds", "is required");
            return null;
        }

        if (double.IsNaN(p) || p is < 0 or > Max)
        {
            v.Add("positionSeconds", $"must be between 0 and {Max:0} seconds");
            return null;
        }

        return p;
    }
}

/// <param name="Paused">While true, nothing new is recorded in the history (what is there stays until cleared).</param>
internal sealed record HistorySettingsRequest(bool? Paused);

/// <param name="Paused">Whether recording the history is paused.</param>
internal sealed record HistorySettings(bool Paused);

/// <summary>A video in the viewer's history.</summary>
/// <param name="PositionSeconds">Where they stopped: "continue watching" resumes there.</param>
/// <param name="WatchedAt">When the position was last recorded.</param>
internal sealed record HistoryEntry(VideoCard Video, double PositionSeconds, DateTimeOffset WatchedAt);

/// <summary>A video saved for later.</summary>
internal sealed record WatchLaterEntry(VideoCard Video, DateTimeOffset AddedAt);

internal static class LibraryServices
{
    public static IServiceCollection AddLibrary(this IServiceCollection services)
    {
        services.AddSingleton<LibraryStore>();
        return services;
    }
}
