namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>What the live-ingest tests (RTMP and SRT) share: a creator's stream key, and a bounded wait for a state.</summary>
internal static class LiveKeys
{
    /// <summary>A new creator with a channel and a stream key on it.</summary>
    public static async Task<(string Channel, string KeyId, string Key, Persona Creator)> NewAsync(ControlPlaneApp app)
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var created = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created);
        return (channel, created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!, creator);
    }

    /// <summary>Polls <paramref name="probe"/> every 200 ms until it answers, at most <paramref name="timeout"/> (then throws naming <paramref name="what"/>).</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what, TimeSpan timeout)
        where T : struct
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } v)
            {
                return v;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException(what);
    }
}
