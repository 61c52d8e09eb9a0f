using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Configuration;

/// <summary>
/// The configuration keys stored in etcd under one key prefix (<c>StreamVerse:Config:Etcd:Prefix</c>), read in full at
/// start and again after every watch event, so a consumer always sees one revision's whole set, never a mix of two.
/// An etcd key <c>PREFIX/StreamVerse/Limits/RequestsPerSecondPerIp</c> (or <c>PREFIX/StreamVerse:Limits:...</c>) is the
/// configuration key <c>StreamVerse:Limits:RequestsPerSecondPerIp</c>; the value is the key's UTF-8 text.
/// </summary>
/// <remarks>
/// The watch (etcd API v3 <c>Watch</c>, a bidirectional gRPC stream) starts after the revision of the last full read,
/// so nothing written between the read and the watch is missed. A broken stream (etcd restarted, the revision
/// compacted) is followed by a full read and a new watch, with a backoff of up to 10 s; while etcd is unreachable the
/// last values read stay in force.
/// </remarks>
internal sealed class EtcdConfigurationWatcher : IDisposable
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(5);
    private readonly GrpcChannel _channel;
    private readonly KV.KVClient _kv;
    private readonly Watch.WatchClient _watch;
    private readonly ByteString _prefix;
    private readonly ByteString _rangeEnd;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _revision;

    public EtcdConfigurationWatcher(string endpoint, string prefix)
    {
        Endpoint = endpoint;
        Prefix = prefix;
        _channel = GrpcChannel.ForAddress(endpoint);
        _kv = new KV.KVClient(_channel);
        _watch = new Watch.WatchClient(_channel);
        _prefix = ByteString.CopyFromUtf8(prefix);
        _rangeEnd = PrefixEnd(_prefix);
    }

    public string Endpoint { get; }

    public string Prefix { get; }

    /// <summary>The configuration keys and values of the last full read.</summary>
    public IReadOnlyDictionary<string, string> Values { get; private set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>After a full read that followed a change (or a reconnect); the consumer compares and decides.</summary>
    public Action? Changed { get; set; }

    /// <summary>A watch or read that failed (the consumer logs it; nothing else changes).</summary>
    public Action<Exception>? Failed { get; set; }

    /// <summary>The first read, at start: a daemon told to take its configuration from etcd does not start without it.</summary>
    public void Load()
    {
        try
        {
            ReadAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (RpcException e)
        {
            throw new OptionsValidationException(DynamicConfigurationSettings.EtcdEndpointsKey, typeof(DynamicConfigurationSettings),
                [string.Create(CultureInfo.InvariantCulture, $"{DynamicConfigurationSettings.EtcdEndpointsKey}: cannot read the keys under '{Prefix}' from etcd at {Endpoint}: {e.Status.StatusCode} {e.Status.Detail}")]);
        }
    }

    public void Start() => _loop ??= Task.Run(WatchLoopAsync);

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        var response = await _kv.RangeAsync(new RangeRequest { Key = _prefix, RangeEnd = _rangeEnd },
            deadline: DateTime.UtcNow + CallDeadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var kv in response.Kvs)
        {
            var key = ToConfigurationKey(kv.Key.ToStringUtf8()[Prefix.Length..]);
            if (key.Length > 0)
            {
                values[key] = kv.Value.ToStringUtf8();
            }
        }

        Values = values;
        _revision = response.Header.Revision;
    }

    private async Task WatchLoopAsync()
    {
        var ct = _stop.Token;
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var call = _watch.Watch(cancellationToken: ct);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = _prefix, RangeEnd = _rangeEnd, StartRevision = _revision + 1 },
                }, ct).ConfigureAwait(false);
                while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                {
                    var response = call.ResponseStream.Current;
                    if (response.Canceled)
                    {
                        // Compacted past our revision (or refused): a full read below, then a new watch.
                        break;
                    }

                    backoff = TimeSpan.FromMilliseconds(250);
                    if (response.Events.Count > 0)
                    {
                        await ReadAsync(ct).ConfigureAwait(false);
                        Changed?.Invoke();
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or InvalidOperationException)
            {
                Failed?.Invoke(e);
            }

            try
            {
                await Task.Delay(backoff, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));

                // Events may have been missed while the watch was down: read everything again.
                await ReadAsync(ct).ConfigureAwait(false);
                Changed?.Invoke();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e)
            {
                Failed?.Invoke(e);
            }
        }
    }

    /// <summary><c>StreamVerse/Limits/X</c> and <c>StreamVerse:Limits:X</c> are the same key; a leading separator is ignored.</summary>
    internal static string ToConfigurationKey(string etcdKey) => etcdKey.Replace('/', ':').Trim(':');

    /// <summary>The range end that selects every key starting with the prefix (etcd's <c>clientv3.GetPrefixRangeEnd</c>).</summary>
    private static ByteString PrefixEnd(ByteString prefix)
    {
        var end = prefix.ToByteArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0);
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        _channel.Dispose();
        _stop.Dispose();
    }
}
