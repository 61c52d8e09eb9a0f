using System.Globalization;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>The event kinds a beacon may carry (the <c>type</c> field), and the stored kind of a heartbeat's played range.</summary>
internal static class BeaconKinds
{
    public const string Load = "load";
    public const string Start = "start";
    public const string Heartbeat = "heartbeat";
    public const string Pause = "pause";
    public const string Seek = "seek";
    public const string Rendition = "rendition";
    public const string StallStart = "stall-start";
    public const string StallEnd = "stall-end";
    public const string Error = "error";
    public const string End = "end";

    /// <summary>Stored: one played range of a heartbeat.</summary>
    public const string Watch = "watch";

    public static readonly string[] All = [Load, Start, Heartbeat, Pause, Seek, Rendition, StallStart, StallEnd, Error, End];
}

/// <summary>Where the viewer came from (the <c>source</c> field).</summary>
internal static class TrafficSources
{
    public static readonly string[] All = ["feed", "search", "subscriptions", "notification", "external", "embed", "direct"];
}

/// <summary>One validated event. <see cref="Ranges"/> only for a heartbeat; numbers the event does not carry are -1.</summary>
internal sealed record BeaconEvent(string Kind, (double From, double To)[] Ranges, long Value, long Width, long Height, double From, double To,
    string Code, string Message);

/// <summary>
/// A validated beacon as the endpoint queued it. <see cref="AccountId"/> (signed-in callers) and <see cref="AddressKey"/> stay
/// in memory: the writer turns the first into the salted viewer key and uses the second only for the flood rule.
/// </summary>
internal sealed record BeaconBatch(long At, string VideoId, string Session, string? AccountId, ulong AddressKey, string Source,
    UserAgentFamily Agent, BeaconEvent[] Events);

/// <summary>
/// The body of <c>POST /api/v1/beacons</c>, read as JSON whatever the Content-Type says (<c>navigator.sendBeacon</c> sends
/// text/plain), field by field so that every refusal names the field (<c>events[2].ranges[0]</c>):
/// <code>{"session":"tab id","videoId":"...","source":"feed","events":[{"type":"start","startupMs":420},
///  {"type":"heartbeat","ranges":[[0,10.2]],"bitrate":800},{"type":"rendition","bitrate":800,"width":640,"height":360},
///  {"type":"stall-end","durationMs":900},{"type":"seek","from":3,"to":40},{"type":"error","code":"MEDIA_ERR","message":"..."}]}</code>
/// </summary>
internal static class BeaconParser
{
    private const double MaxPosition = 7 * 86_400;

    /// <summary>Longest played range in one heartbeat, and all of its ranges together: a heartbeat comes about every 10 s (pagehide may send a longer one).</summary>
    public const double MaxHeartbeatSeconds = 300;

    public static (string VideoId, string Session, string Source, BeaconEvent[] Events)? Parse(ReadOnlySpan<byte> body, int maxEvents, Validation v)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            v.Add("body", "must be a JSON object");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                v.Add("body", "must be a JSON object");
                return null;
            }

            string? videoId = null, session = null, source = null;
            var events = new List<BeaconEvent>();
            var sawEvents = false;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "videoId":
                        videoId = Id(v, "videoId", p.Value, 1, 32);
                        break;
                    case "session":
                        session = Id(v, "session", p.Value, 8, 64);
                        break;
                    case "source":
                        source = p.Value.ValueKind == JsonValueKind.Null ? null : OneOf(v, "source", p.Value, TrafficSources.All);
                        break;
                    case "events":
                        sawEvents = true;
                        if (p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() is 0)
                        {
                            v.Add("events", "must be a non-empty array");
                        }
                        else if (p.Value.GetArrayLength() > maxEvents)
                        {
                            v.Add("events", $"must hold at most {maxEvents} events");
                        }
                        else
                        {
                            var i = 0;
                            foreach (var e in p.Value.EnumerateArray())
                            {
                                if (Event(v, $"events[{i++}]", e) is { } parsed)
                                {
                                    events.Add(parsed);
                                }
                            }
                        }

                        break;
                    default:
                        v.Add(p.Name, "is not a field of this request");
                        break;
                }
            }

            if (videoId is null && !HasError(v, "videoId"))
            {
                v.Add("videoId", "is required");
            }

            if (session is null && !HasError(v, "session"))
            {
                v.Add("session", "is required");
            }

            if (!sawEvents)
            {
                v.Add("events", "is required");
            }

            return v.IsValid ? (videoId!, session!, source ?? "direct", events.ToArray()) : null;
        }
    }

    private static bool HasError(Validation v, string field) => v.Has(field);

    private static BeaconEvent? Event(Validation v, string at, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            v.Add(at, "must be an object");
            return null;
        }

        string? kind = null, code = null, message = null;
        long value = -1, width = -1, height = -1;
        double from = -1, to = -1;
        (double, double)[] ranges = [];
        var errors = v.Count;
        foreach (var p in e.EnumerateObject())
        {
            var field = at + "." + p.Name;
            switch (p.Name)
            {
                case "type":
                    kind = OneOf(v, field, p.Value, BeaconKinds.All);
                    break;
                case "t":
                    Number(v, field, p.Value, 0, 1e15);
                    break;
                case "startupMs" or "durationMs":
                    value = (long)Number(v, field, p.Value, 0, 3_600_000);
                    break;
                case "bitrate":
                    value = (long)Number(v, field, p.Value, 0, 1_000_000);
                    break;
                case "width":
                    width = (long)Number(v, field, p.Value, 0, 16_384);
                    break;
                case "height":
                    height = (long)Number(v, field, p.Value, 0, 16_384);
                    break;
                case "from" or "position":
                    from = Number(v, field, p.Value, 0, MaxPosition);
                    break;
                case "to":
                    to = Number(v, field, p.Value, 0, MaxPosition);
                    break;
                case "code":
                    code = Text(v, field, p.Value, 64);
                    break;
                case "message":
                    message = Text(v, field, p.Value, 500);
                    break;
                case "ranges":
                    ranges = Ranges(v, field, p.Value);
                    break;
                default:
                    v.Add(field, "is not a field of this request");
                    break;
            }
        }

        if (kind is null && !v.Has(at + ".type"))
        {
            v.Add(at + ".type", "is required");
        }

        if (kind != BeaconKinds.Heartbeat && ranges.Length > 0)
        {
            v.Add(at + ".ranges", "only a heartbeat carries played ranges");
        }

        return v.Count != errors || kind is null ? null : new BeaconEvent(kind, ranges, value, width, height, from, to, code ?? "", message ?? "");
    }

    private static (double, double)[] Ranges(Validation v, string field, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > 100)
        {
            v.Add(field, "must be an array of at most 100 [from, to] pairs of seconds");
            return [];
        }

        var ranges = new List<(double, double)>();
        var total = 0.0;
        var i = 0;
        foreach (var r in value.EnumerateArray())
        {
            var at = $"{field}[{i++}]";
            if (r.ValueKind != JsonValueKind.Array || r.GetArrayLength() != 2
                || r[0].ValueKind != JsonValueKind.Number || r[1].ValueKind != JsonValueKind.Number)
            {
                v.Add(at, "must be a [from, to] pair of seconds");
                continue;
            }

            var a = r[0].GetDouble();
            var b = r[1].GetDouble();
            if (a < 0 || b < a || b > MaxPosition)
            {
                v.Add(at, $"must satisfy 0 <= from <= to <= {MaxPosition.ToString(CultureInfo.InvariantCulture)}");
                continue;
            }

            total += b - a;
            ranges.Add((a, b));
        }

        if (total > MaxHeartbeatSeconds)
        {
            v.Add(field, $"must cover at most {MaxHeartbeatSeconds.ToString(CultureInfo.InvariantCulture)} seconds in one heartbeat");
        }

        return [.. ranges];
    }

    private static string? Id(Validation v, string field, JsonElement value, int min, int max)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            v.Add(field, "must be a string");
            return null;
        }

        var s = value.GetString()!;
        if (s.Length < min || s.Length > max || !s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            v.Add(field, $"must be {min}-{max} letters, digits, '-' or '_'");
            return null;
        }

        return s;
    }

    private static string? OneOf(Validation v, string field, JsonElement value, string[] allowed)
    {
        var s = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (s is null || !allowed.Contains(s, StringComparer.Ordinal))
        {
            v.Add(field, "must be one of " + string.Join(", ", allowed));
            return null;
        }

        return s;
    }

    private static double Number(Validation v, string field, JsonElement value, double min, double max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || d < min || d > max)
        {
            v.Add(field, $"must be a number between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}");
            return -1;
        }

        return d;
    }

    private static string? Text(Validation v, string field, JsonElement value, int max)
    {
        if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length > max)
        {
            v.Add(field, $"must be a string of at most {max} characters");
            return null;
        }

        return value.GetString();
    }
}
