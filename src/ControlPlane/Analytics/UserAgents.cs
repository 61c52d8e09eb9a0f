namespace StreamVerse.ControlPlane.Analytics;

/// <summary>What analytics keeps of a User-Agent: device, browser and OS families, and whether it is a known bot. The raw string is never stored.</summary>
internal readonly record struct UserAgentFamily(string Device, string Browser, string Os, bool Bot);

/// <summary>
/// A small own table, first match wins (order matters: Edge and Opera say Chrome too, Chrome says Safari, Android says Linux).
/// Bots are matched on well-known crawler and tool tokens; a headless browser (<c>HeadlessChrome</c>) is not a bot by itself
/// (players in tests and kiosks run headless), so it counts as Chrome.
/// </summary>
internal static class UserAgents
{
    private static readonly string[] BotTokens =
    [
        "bot", "crawler", "spider", "slurp", "facebookexternalhit", "embedly", "curl/", "wget/", "python-requests",
        "python-urllib", "go-http-client", "libwww-perl", "java/", "httpclient", "scrapy", "phantomjs", "lighthouse", "pingdom",
        "uptimerobot",
    ];

    private static readonly (string Token, string Family)[] Browsers =
    [
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("Opera", "Opera"), ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("HeadlessChrome/", "Chrome"), ("Chromium/", "Chrome"), ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];

    private static readonly (string Token, string Family)[] Systems =
    [
        ("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("iPod", "iOS"), ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"),
    ];

    public static UserAgentFamily Parse(string? userAgent)
    {
        var ua = userAgent ?? "";
        var bot = false;
        foreach (var token in BotTokens)
        {
            if (ua.Contains(token, StringComparison.OrdinalIgnoreCase))
            {
                bot = true;
                break;
            }
        }

        var browser = First(ua, Browsers);
        var os = First(ua, Systems);
        var device = ua.Contains("iPad", StringComparison.Ordinal) || ua.Contains("Tablet", StringComparison.OrdinalIgnoreCase)
                || (os == "Android" && !ua.Contains("Mobile", StringComparison.Ordinal))
            ? "tablet"
            : ua.Contains("Mobi", StringComparison.Ordinal) || ua.Contains("iPhone", StringComparison.Ordinal)
                ? "mobile"
                : ua.Contains("SmartTV", StringComparison.OrdinalIgnoreCase) || ua.Contains("TV;", StringComparison.Ordinal)
                    ? "tv"
                    : ua.Length == 0 ? "other" : "desktop";
        return new UserAgentFamily(device, browser, os, bot);
    }

    private static string First(string ua, (string Token, string Family)[] table)
    {
        foreach (var (token, family) in table)
        {
            if (ua.Contains(token, StringComparison.Ordinal))
            {
                return family;
            }
        }

        return "Other";
    }
}
