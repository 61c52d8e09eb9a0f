using System.Net;

namespace StreamVerse.Functional.Tests.Infrastructure;

/// <summary>N viewers asking one server for the same object at the same moment (released together), on N connections.</summary>
public static class ColdBurst
{
    public static async Task<(HttpStatusCode StatusCode, byte[] Bytes)[]> GetAsync(string baseUrl, string path, int viewers)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = viewers }) { BaseAddress = new Uri(baseUrl) };
        using var start = new ManualResetEventSlim();
        var requests = Enumerable.Range(0, viewers).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            using var response = await client.GetAsync(path);
            return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
        })).ToArray();
        start.Set();
        return await Task.WhenAll(requests);
    }
}
