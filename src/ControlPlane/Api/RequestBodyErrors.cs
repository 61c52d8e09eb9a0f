using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Api;

/// <summary>
/// Requests accept only what the caller may set. Bodies are read with
/// <see cref="JsonUnmappedMemberHandling.Disallow"/>, so a field the request type does not declare (a typo, or a
/// field the server owns such as a video's <c>status</c>) is refused rather than silently dropped; and parameter
/// binding throws (<see cref="RouteHandlerOptions.ThrowOnBadRequest"/>) instead of answering a bare 400, so this
/// handler can turn every binding failure into a validation problem that names the field:
/// <list type="bullet">
/// <item>a field the endpoint's response carries but its request does not: "is set by the server";</item>
/// <item>any other unknown field: "is not a field of this request";</item>
/// <item>a value of the wrong JSON type, or JSON that does not parse: the field's path (or <c>body</c>) and why;</item>
/// <item>a query or route value that does not parse as its type (<c>?limit=abc</c>): the parameter's name.</item>
/// </list>
/// </summary>
internal sealed class RequestBodyErrors(IOptions<JsonOptions> json) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        // The body may be left partly unread (an unknown field refused mid-stream, a body over its limit): Kestrel then
        // drains or drops the connection after answering. Saying so lets the client open a new one rather than send its
        // next request on a connection about to close (seen as "response ended prematurely" on the next call).
        httpContext.Response.Headers.Connection = "close";
        if (bad.StatusCode != StatusCodes.Status400BadRequest)
        {
            // 413 (a body over the endpoint's limit) and the like: nothing in the body is to blame but its size.
            await TypedResults.Problem(statusCode: bad.StatusCode, detail: bad.Message).ExecuteAsync(httpContext).ConfigureAwait(false);
            return true;
        }

        var (field, message) = bad.InnerException is JsonException j ? Describe(httpContext, j) : Describe(bad);
        var problem = TypedResults.ValidationProblem(
            new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] }, title: "One or more fields are invalid.");
        await problem.ExecuteAsync(httpContext).ConfigureAwait(false);
        return true;
    }

    private (string Field, string Message) Describe(HttpContext context, JsonException e)
    {
        // JsonException.Path is "$.a.b" or "$.a[2]"; an unmapped member's path names the member itself.
        var path = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
        if (path is null)
        {
            return ("body", "is not valid JSON for this request");
        }

        if (e.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            return (path, ResponseCarries(context, path) ? "is set by the server and cannot be written" : "is not a field of this request");
        }

        return (path, e.Message.Contains("could not be converted", StringComparison.Ordinal) ? "has the wrong type" : "is not valid JSON");
    }

    private static (string Field, string Message) Describe(BadHttpRequestException e)
    {
        // Minimal APIs name the parameter in quotes: Failed to bind parameter "int? limit" from "abc".
        var m = e.Message;
        var open = m.IndexOf('"', StringComparison.Ordinal);
        var close = open < 0 ? -1 : m.IndexOf('"', open + 1);
        if (open >= 0 && close > open)
        {
            var declaration = m[(open + 1)..close];
            var name = declaration[(declaration.LastIndexOf(' ') + 1)..];
            return (name, m.StartsWith("Failed to bind parameter", StringComparison.Ordinal) ? "has the wrong type" : m);
        }

        return ("body", m);
    }

    /// <summary>Whether <paramref name="field"/> (a JSON property name) is a property of a type the endpoint answers with.</summary>
    private bool ResponseCarries(HttpContext context, string field)
    {
        // The exception handler clears the request's endpoint before handlers run; the feature keeps it.
        var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        if (endpoint is null)
        {
            return false;
        }

        var options = json.Value.SerializerOptions;
        foreach (var produces in endpoint.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>())
        {
            if (produces.Type is not { IsClass: true } type || produces.StatusCode >= 300 || !options.TryGetTypeInfo(type, out var info))
            {
                continue;
            }

            foreach (var property in info.Properties)
            {
                if (string.Equals(property.Name, field, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
