using System.Reflection;

namespace StreamVerse.ControlPlane.Api;

/// <summary>
/// A query parameter an endpoint does not take is refused (400 naming it), never ignored: <c>GET /videos?status=failed</c>
/// or <c>?q=cats</c> silently answering the unfiltered list reads as "there are none" or "search works". The names an
/// endpoint takes are its handler's parameters (and the properties of an <c>[AsParameters]</c> one), read once when the
/// endpoint is built.
/// </summary>
internal static class QueryParameters
{
    public static TBuilder RefuseUnknownQueryParameters<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory((factory, next) =>
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in factory.MethodInfo.GetParameters())
            {
                if (p.GetCustomAttribute<AsParametersAttribute>() is not null)
                {
                    names.UnionWith(p.ParameterType.GetProperties().Select(x => x.Name));
                }
                else if (p.Name is not null)
                {
                    names.Add(p.Name);
                }
            }

            return context =>
            {
                var query = context.HttpContext.Request.Query;
                if (query.Count == 0)
                {
                    return next(context);
                }

                Validation? v = null;
                var extra = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<AcceptsQuery>()?.Names ?? [];
                foreach (var key in query.Keys)
                {
                    if (!names.Contains(key) && !extra.Contains(key, StringComparer.OrdinalIgnoreCase))
                    {
                        (v ??= new Validation()).Add(key, "is not a parameter of this endpoint");
                    }
                }

                return v is null ? next(context) : ValueTask.FromResult<object?>(v.Result());
            };
        });
}

/// <summary>
/// Query parameters an endpoint accepts without binding them, e.g. the version in an avatar URL (<c>?v=</c>) that
/// only makes each version its own cache key.
/// </summary>
internal sealed record AcceptsQuery(params string[] Names);
