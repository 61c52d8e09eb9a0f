using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Comments;

/// <summary>Config section <c>StreamVerse:ControlPlane:Comments</c>.</summary>
internal sealed class CommentOptions
{
    public const string Section = "StreamVerse:ControlPlane:Comments";

    /// <summary>Longest comment text, in Unicode characters (scalar values), 1-100000. Default 10000, as YouTube and PeerTube.</summary>
    public int MaxLength { get; set; } = 10_000;

    /// <summary>
    /// The request-body cap of posting and editing: the longest text with every character JSON-escaped, plus room for the rest.
    /// A character outside the BMP escapes as a surrogate pair (<c>\uD83D\uDE00</c>, 12 bytes), and System.Text.Json's default
    /// encoder escapes every non-ASCII character so, so 12 bytes per character.
    /// </summary>
    public long BodyLimit => (MaxLength * 12L) + 1024;
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class CommentOptionsValidator : IValidateOptions<CommentOptions>
{
    public ValidateOptionsResult Validate(string? name, CommentOptions o) =>
        o.MaxLength is < 1 or > 100_000
            ? ValidateOptionsResult.Fail(CommentOptions.Section + ":MaxLength must be between 1 and 100000")
            : ValidateOptionsResult.Success;
}

internal static class CommentServices
{
    /// <summary>Comments: options, store. The endpoints are mapped by <see cref="CommentEndpoints.MapComments"/>.</summary>
    public static IServiceCollection AddComments(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CommentOptions>().Bind(configuration.GetSection(CommentOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CommentOptions>, CommentOptionsValidator>();
        services.AddSingleton<CommentStore>();
        services.AddEvent<CommentPosted>("comments.comment-posted.v1");
        return services;
    }
}
