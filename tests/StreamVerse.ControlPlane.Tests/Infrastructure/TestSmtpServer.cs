using MimeKit;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// The SMTP server that <c>./setup.sh</c> starts on loopback (tests/smtp/mailsink.py over aiosmtpd): where it listens
/// (<c>$STREAMVERSE_TEST_SMTP_HOST</c>/<c>_PORT</c>/<c>_MAIL_DIR</c>, else the file setup.sh writes) and what it
/// received: one file per message and recipient, <c>{recipient}--{ns}-{n}.eml</c>. Reading it throws (a test failure,
/// never a skip) when neither exists: CI runs setup.sh first.
/// </summary>
public static class TestSmtpServer
{
    public const string EnvFile = "/var/lib/streamverse-test/smtp.env";

    private static readonly Lazy<(string Host, int Port, string MailDir)> Settings = new(Find);

    public static string Host => Settings.Value.Host;

    public static int Port => Settings.Value.Port;

    public static string MailDir => Settings.Value.MailDir;

    /// <summary>The daemon arguments that send its mail to this server (public base URL <paramref name="baseUrl"/>).</summary>
    public static string[] DaemonArgs(string baseUrl = "https://app.test.invalid") =>
    [
        "--StreamVerse:ControlPlane:Mail:Host", Host,
        "--StreamVerse:ControlPlane:Mail:Port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--StreamVerse:ControlPlane:Mail:Security", "None",
        "--StreamVerse:ControlPlane:Mail:User", "streamverse",
        "--StreamVerse:ControlPlane:Mail:Password", "smtp-test-password",
        "--StreamVerse:ControlPlane:Mail:From", "StreamVerse <no-reply@test.invalid>",
        "--StreamVerse:ControlPlane:Mail:PublicBaseUrl", baseUrl,
        "--StreamVerse:ControlPlane:Mail:PollInterval", "00:00:00.5",
    ];

    /// <summary>Every message received for <paramref name="recipient"/> so far, oldest first.</summary>
    public static List<MimeMessage> ReceivedBy(string recipient)
    {
        var prefix = recipient.ToLowerInvariant() + "--";
        return [.. Directory.EnumerateFiles(MailDir, prefix + "*.eml")
            .Select(f => (File: f, Order: Order(Path.GetFileName(f)[prefix.Length..])))
            .OrderBy(x => x.Order)
            .Select(x => MimeMessage.Load(x.File))];

        static (long, long) Order(string rest)
        {
            var parts = rest[..^".eml".Length].Split('-');
            return (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Waits (up to a minute, polling) until <paramref name="recipient"/> has received <paramref name="count"/> messages; returns them all.</summary>
    public static async Task<List<MimeMessage>> WaitForAsync(string recipient, int count = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var received = ReceivedBy(recipient);
            if (received.Count >= count)
            {
                return received;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{recipient} received {received.Count} of {count} messages at the test SMTP server ({MailDir})");
            await Task.Delay(100);
        }
    }

    /// <summary>The token in the link of a message to <paramref name="page"/> (checked in both the text and the HTML part, which must agree).</summary>
    public static string LinkToken(MimeMessage message, string page, string baseUrl = "https://app.test.invalid")
    {
        var prefix = baseUrl + "/" + page + "?token=";
        string Find(string? body, string part)
        {
            Assert.False(string.IsNullOrEmpty(body), $"the message has no {part} part");
            var at = body!.IndexOf(prefix, StringComparison.Ordinal);
            Assert.True(at >= 0, $"no {prefix} link in the {part} part: {body}");
            var end = body.IndexOfAny(['\n', '\r', '"', ' ', '<'], at);
            return Uri.UnescapeDataString(body[(at + prefix.Length)..(end < 0 ? body.Length : end)]);
        }

        var text = Find(message.TextBody, "text");
        var html = Find(message.HtmlBody, "HTML");
        Assert.Equal(text, System.Net.WebUtility.HtmlDecode(html));
        return text;
    }

    private static (string, int, string) Find()
    {
        var read = TestEnvFile.Reader(EnvFile, "SMTP server");
        string Get(string name) => read(name);

        return (Get("STREAMVERSE_TEST_SMTP_HOST"), int.Parse(Get("STREAMVERSE_TEST_SMTP_PORT"), System.Globalization.CultureInfo.InvariantCulture),
            Get("STREAMVERSE_TEST_SMTP_MAIL_DIR"));
    }
}
