using Microsoft.AspNetCore.Http.Metadata;

namespace StreamVerse.ControlPlane.Api;

/// <summary>
/// A request-body cap on an endpoint, enforced by Kestrel before the body is read: routing copies it into the
/// request's <c>IHttpMaxRequestBodySizeFeature</c>, a <c>Content-Length</c> above it is refused on the first read
/// and a chunked body as soon as it passes it, so no more than the cap is ever buffered. The answer is a 413.
/// </summary>
internal sealed class BodyLimit(long bytes) : IRequestSizeLimitMetadata
{
    /// <summary>
    /// Account and authentication requests (register, login, refresh, password change, deletion, profile, roles): a
    /// few short fields, 16 KiB is a hundred times what the largest valid one needs.
    /// </summary>
    public const long Account = 16 * 1024;

    public long? MaxRequestBodySize => bytes;
}

internal static class BodyLimitExtensions
{
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(bytes));
}
