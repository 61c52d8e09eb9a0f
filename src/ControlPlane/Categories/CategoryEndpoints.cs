using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Categories;

internal sealed record CategoryRequest(string? Name, string? Description);

internal sealed record Category(long Id, string Name, string Description);

/// <summary><c>/api/v1/categories</c>: read by anyone, managed by admins.</summary>
internal static class CategoryEndpoints
{
    public static RouteGroupBuilder MapCategories(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/categories").WithTags("Categories");
        group.MapGet("", ListAsync).AllowAnonymous().Produces<Page<Category>>().ProducesValidationProblem();
        group.MapGet("/{id:long}", GetAsync).AllowAnonymous().Produces<Category>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("", CreateAsync).RequireAuthorization(Policies.Admin).Produces<Category>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/{id:long}", UpdateAsync).RequireAuthorization(Policies.Admin).Produces<Category>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id:long}", DeleteAsync).RequireAuthorization(Policies.Admin).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static Category Read(System.Data.Common.DbDataReader r, Dialect _) => new(r.GetInt64(0), r.GetString(1), r.GetString(2));

    private const string ListSort = "categories";

    /// <summary>By name (then id), keyset-paged; without a cursor the position is before every name (names are never empty).</summary>
    private static async Task<IResult> ListAsync(string? cursor, int? limit, Database database, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var (name, id) = Paging.After(cursor, ListSort, v);
        long afterId = 0;
        if (id is not null && !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out afterId))
        {
            v.Add("cursor", "is not a cursor of this listing");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(
            "SELECT id, name, description FROM categories WHERE name > @ck OR (name = @ck AND id > @cid) ORDER BY name, id LIMIT @take",
            [("ck", name ?? ""), ("cid", afterId), ("take", take + 1)], Read, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(Paging.Cut(rows, take, ListSort, c => (c.Name, c.Id.ToString(CultureInfo.InvariantCulture)), c => c));
    }

    private static async Task<IResult> GetAsync(long id, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var c = await db.SingleAsync("SELECT id, name, description FROM categories WHERE id = @id", [("id", id)], Read, cancellationToken).ConfigureAwait(false);
        return c is null ? Problems.NotFound("category") : TypedResults.Ok(c);
    }

    private static (string Name, string Description)? Validate(CategoryRequest request, out IResult? problem)
    {
        var v = new Validation();
        var name = v.Text("name", request.Name, 1, 64);
        var description = v.OptionalText("description", request.Description, 500) ?? "";
        problem = v.IsValid ? null : v.Result();
        return v.IsValid ? (name, description) : null;
    }

    private static async Task<IResult> CreateAsync(CategoryRequest request, Database database, CancellationToken cancellationToken)
    {
        if (Validate(request, out var problem) is not { } c)
        {
            return problem!;
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var id = await db.ScalarAsync<long?>("INSERT INTO categories (name, description) VALUES (@n, @d) ON CONFLICT DO NOTHING RETURNING id",
            [("n", c.Name), ("d", c.Description)], cancellationToken).ConfigureAwait(false);
        return id is null ? Problems.Conflict("A category with that name exists.")
            : TypedResults.Created($"/api/v1/categories/{id}", new Category(id.Value, c.Name, c.Description));
    }

    private static async Task<IResult> UpdateAsync(long id, CategoryRequest request, Database database, CancellationToken cancellationToken)
    {
        if (Validate(request, out var problem) is not { } c)
        {
            return problem!;
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ScalarAsync<long?>("SELECT id FROM categories WHERE name = @n AND id <> @id", [("n", c.Name), ("id", id)], cancellationToken).ConfigureAwait(false) is not null)
        {
            return Problems.Conflict("A category with that name exists.");
        }

        var n = await db.ExecAsync("UPDATE categories SET name = @n, description = @d WHERE id = @id", [("n", c.Name), ("d", c.Description), ("id", id)], cancellationToken).ConfigureAwait(false);
        return n == 0 ? Problems.NotFound("category") : TypedResults.Ok(new Category(id, c.Name, c.Description));
    }

    private static async Task<IResult> DeleteAsync(long id, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync("DELETE FROM categories WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        return n == 0 ? Problems.NotFound("category") : TypedResults.NoContent();
    }
}
