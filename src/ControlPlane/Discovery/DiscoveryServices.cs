using StreamVerse.ControlPlane.Library;
using StreamVerse.ControlPlane.Playlists;
using StreamVerse.ControlPlane.Search;

namespace StreamVerse.ControlPlane.Discovery;

/// <summary>Discovery's registration: feeds, search, the viewer's library and playlists (issue 20).</summary>
internal static class DiscoveryServices
{
    public static IServiceCollection AddDiscovery(this IServiceCollection services, IConfiguration configuration)
    {
        _ = configuration; // no options yet; the signature is every feature's
        services.AddSingleton<FeedStore>();
        services.AddSingleton<SearchStore>();
        services.AddLibrary();
        services.AddPlaylists();
        return services;
    }

    public static IEndpointRouteBuilder MapDiscovery(this IEndpointRouteBuilder api) =>
        api.MapFeeds().MapSearch().MapLibrary().MapPlaylists();
}
