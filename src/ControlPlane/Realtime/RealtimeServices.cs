using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Realtime;

internal static partial class RealtimeServices
{
    public const string Path = ControlPlaneExtensions.ApiPrefix + "/realtime";

    /// <summary>The socket: SignalR with the JSON protocol, the frame cap, the Redis backplane when configured, and bearer tokens in the query for it.</summary>
    public static IServiceCollection AddRealtime(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RealtimeOptions>().Bind(configuration.GetSection(RealtimeOptions.Section)).ValidateOnStart();
        services.AddOptions<RedisOptions>().Bind(configuration.GetSection(RedisOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>();
        services.AddSingleton<IValidateOptions<RedisOptions>, RealtimeOptionsValidator>();
        services.AddSingleton<IRealtimePush, RealtimePush>();

        var signalR = services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.TypeInfoResolverChain.Insert(0, ControlPlaneJsonContext.Default));
        services.AddOptions<HubOptions>().Configure<IOptions<RealtimeOptions>>((hub, realtime) =>
        {
            hub.MaximumReceiveMessageSize = realtime.Value.MaximumReceiveMessageSize;
            hub.EnableDetailedErrors = false; // HubException messages only: nothing of a server error reaches the client.
        });

        // An unparsable configuration registers no backplane: RealtimeOptionsValidator then stops the start naming the key.
        // The backplane rides the process's one Redis connection (Cluster.ClusterRedis), which never aborts the start: while
        // Redis is away this daemon's sockets still work and the multiplexer reconnects.
        var redis = configuration.GetSection(RedisOptions.Section).Get<RedisOptions>() ?? new RedisOptions();
        if (Cluster.ClusterRedis.TryParse(redis.Configuration) is { } redisConfiguration)
        {
            redisConfiguration.AbortOnConnectFail = false;
            redisConfiguration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal(redis.ChannelPrefix);
            signalR.AddStackExchangeRedis(o => o.Configuration = redisConfiguration);
            services.AddOptions<Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisOptions>()
                .Configure<Cluster.ClusterRedis>((o, shared) => o.ConnectionFactory = _ => shared.ConnectionAsync());
        }

        // A browser's WebSocket cannot send an Authorization header: on this path only, the token may come as access_token
        // (what the SignalR clients send). Kept out of the request logs: ASP.NET Core's request logging is at Warning.
        services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.Events ??= new JwtBearerEvents();
            var previous = o.Events.OnMessageReceived;
            o.Events.OnMessageReceived = async context =>
            {
                await previous(context).ConfigureAwait(false);
                if (context.Token is null && context.Request.Path.StartsWithSegments(Path, StringComparison.Ordinal)
                    && context.Request.Query["access_token"] is { Count: 1 } token && !string.IsNullOrEmpty(token[0]))
                {
                    context.Token = token[0];
                }
            };
        });
        return services;
    }

    /// <summary>Maps the hub (negotiate, WebSockets, server-sent events and long polling) at <see cref="Path"/>; anonymous at the door, each method checks its caller.</summary>
    public static IEndpointRouteBuilder MapRealtime(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<RealtimeHub>(Path, o => o.CloseOnAuthenticationExpiration = true).AllowAnonymous();
        return endpoints;
    }
}
