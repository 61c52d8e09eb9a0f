namespace StreamVerse.ControlPlane.Api;

/// <summary>Collects field errors at the edge; <see cref="Result"/> is RFC 7807 with an <c>errors</c> dictionary.</summary>
internal sealed class Validation
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    /// <summary>How many fields have an error (a parser compares it before and after a nested object).</summary>
    public int Count => _errors.Count;

    public bool Has(string field) => _errors.ContainsKey(field);

    public Validation Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
        return this;
    }

    /// <summary>Required, trimmed, length-capped text; returns the trimmed value.</summary>
    public string Text(string field, string? value, int min, int max)
    {
        var v = value?.Trim() ?? "";
        if (v.Length < min)
        {
            Add(field, min <= 1 ? "is required" : $"must be at least {min} characters");
        }
        else if (v.Length > max)
        {
            Add(field, $"must be at most {max} characters");
        }

        return v;
    }

    /// <summary>Optional text: null stays null (not given), otherwise as <see cref="Text"/> with minimum 0.</summary>
    public string? OptionalText(string field, string? value, int max) => value is null ? null : Text(field, value, 0, max);

    public IResult Result() => TypedResults.ValidationProblem(
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal),
        title: "One or more fields are invalid.");
}

internal static class Problems
{
    public static IResult NotFound(string what) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: what + " not found");

    public static IResult Forbidden(string detail = "You may not do this.") => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);

    public static IResult Conflict(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    public static IResult Unauthorized(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);
}
