using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// Many signed-in accounts at once, written straight to the database with a session each (no registration, so no
/// Argon2 hash per account): for tests that need hundreds of distinct callers. They cannot log in with a password.
/// </summary>
internal static class QuickAccounts
{
    public static async Task<List<Persona>> CreateAsync(ControlPlaneApp app, int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => Ids.New()).ToList();
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.BeginAsync(default);
            foreach (var id in ids)
            {
                await db.ExecAsync(
                    "INSERT INTO users (id, email, handle, password_hash, display_name, role, created_at) VALUES (@id, @e, @h, '!', @n, 'user', @now)",
                    [("id", id), ("e", ControlPlaneApp.NewEmail()), ("h", ControlPlaneApp.NewHandle()), ("n", "quick " + id), ("now", DateTimeOffset.UtcNow)], default);
            }

            await db.CommitAsync(default);
        }

        var sessions = app.Get<Sessions>();
        var personas = new List<Persona>();
        foreach (var id in ids)
        {
            var pair = await sessions.CreateAsync(id, Roles.User, null, null, default);
            personas.Add(new Persona(id, "", "", pair.AccessToken, pair.RefreshToken, pair.SessionId));
        }

        return personas;
    }
}
