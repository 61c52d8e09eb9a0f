using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace StreamVerse.Origin.Logging;

/// <summary>
/// The console formatter every daemon log line goes through: ASP.NET's own (simple or JSON) writes the line, then the
/// secrets that travel in URLs are cut out of it, wherever they ended up: the message, the state's values, or a scope.
/// A playback token is a path segment (<c>/live/t/TOKEN/...</c>, <c>/vod/t/TOKEN/...</c>), so ASP.NET's request log
/// ("Request starting ... GET /live/t/TOKEN/...") and the <c>RequestPath</c> scope that every line of that request
/// carries would otherwise print it at any level; query parameters named like credentials are cut the same way.
/// The one place all console output passes, so no logger call can forget it.
/// </summary>
internal abstract partial class RedactingConsoleFormatter(string name, string inner, IServiceProvider services) : ConsoleFormatter(name)
{
    public const string Redacted = "[redacted]";

    [ThreadStatic]
    private static StringWriter? t_buffer;

    private ConsoleFormatter? _inner;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        // Resolved on first use: the formatters are the console provider's, built with it.
        _inner ??= services.GetServices<ConsoleFormatter>().First(f => f.Name == inner);
        var buffer = t_buffer ??= new StringWriter(CultureInfo.InvariantCulture);
        buffer.GetStringBuilder().Clear();
        _inner.Write(logEntry, scopeProvider, buffer);
        textWriter.Write(Redact(buffer.ToString()));
    }

    internal static string Redact(string line)
    {
        line = TokenSegment().Replace(line, "/t/" + Redacted);
        return SecretQuery().Replace(line, "${name}=" + Redacted);
    }

    /// <summary>The token segment of a tokenised playback path (PlaybackPath: <c>/live/t/</c>, <c>/vod/t/</c>).</summary>
    [GeneratedRegex(@"/t/[^/\s""?#\\]+", RegexOptions.CultureInvariant)]
    private static partial Regex TokenSegment();

    [GeneratedRegex(@"(?<name>\b(?:token|access_token|refresh_token|key|api_key|apikey|secret|password|signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token))=[^&\s""#\\]+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretQuery();
}

internal sealed class JsonRedactingConsoleFormatter(IServiceProvider services)
    : RedactingConsoleFormatter(FormatterName, ConsoleFormatterNames.Json, services)
{
    public const string FormatterName = "streamverse-json";
}

internal sealed class TextRedactingConsoleFormatter(IServiceProvider services)
    : RedactingConsoleFormatter(FormatterName, ConsoleFormatterNames.Simple, services)
{
    public const string FormatterName = "streamverse-text";
}
