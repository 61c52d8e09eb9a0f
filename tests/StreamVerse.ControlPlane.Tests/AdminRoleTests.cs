using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Users;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// "A deployment that has an admin keeps one" (RoleStore). On a daemon of its own (a class fixture): the tests count
/// every admin of the deployment, which the shared daemon's other tests keep creating.
/// </summary>
public abstract class AdminRoleTests(ControlPlaneApp app)
{
    private async Task<long> AdminCountAsync()
    {
        await using var db = await app.Get<Data.Database>().OpenAsync(default);
        return (await db.ScalarAsync<long?>("SELECT COUNT(*) FROM users WHERE role = 'admin' AND deleted_at IS NULL", [], default))!.Value;
    }

    /// <summary>Leaves the bootstrap admin as the only admin.</summary>
    /// <summary>Leaves the bootstrap admin as the only admin, signed in afresh (a role change in another test may have ended its sessions).</summary>
    private async Task<Persona> OnlyTheBootstrapAdminAsync()
    {
        var root = await app.AdminAsync();
        await using (var db = await app.Get<Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE users SET role = 'user' WHERE role = 'admin' AND id <> @id", [("id", root.Id)], default);
            await db.ExecAsync("UPDATE users SET role = 'admin' WHERE id = @id", [("id", root.Id)], default);
        }

        return await app.LoginAsync(ControlPlaneApp.AdminEmail);
    }

    private async Task<Persona> SecondAdminAsync()
    {
        var user = await app.NewUserAsync();
        Assert.Equal(RoleChange.Changed, await app.Get<RoleStore>().SetAsync(user.Id, "admin", default));
        return await app.LoginAsync(user.Email);
    }

    [Fact]
    public async Task The_last_admin_can_be_neither_demoted_nor_deleted()
    {
        var root = await OnlyTheBootstrapAdminAsync();
        var problem = await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{root.Id}/role", root.AccessToken, new { role = "user" }, HttpStatusCode.Conflict);
        Assert.Equal(409, problem.GetProperty("status").GetInt32());
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", root.AccessToken, new { password = root.Password }, HttpStatusCode.Conflict);

        // Refused means nothing happened: still an admin, still signed in.
        Assert.Equal("admin", (await app.JsonAsync(HttpMethod.Get, "api/v1/me", root.AccessToken)).GetProperty("role").GetString());

        // With a second admin, either may go.
        var second = await SecondAdminAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{second.Id}/role", root.AccessToken, new { role = "user" });
        Assert.Equal(1, await AdminCountAsync());
    }

    [Fact]
    public async Task Two_admins_demoting_each_other_at_once_leave_one_admin()
    {
        var root = await OnlyTheBootstrapAdminAsync();
        var other = await SecondAdminAsync();
        var roles = app.Get<RoleStore>();
        for (var round = 0; round < 20; round++)
        {
            Assert.Equal(2, await AdminCountAsync());
            var outcomes = await Task.WhenAll(
                Task.Run(() => roles.SetAsync(other.Id, "user", default)),
                Task.Run(() => roles.SetAsync(root.Id, "user", default)));

            Assert.Equal(1, await AdminCountAsync());
            Assert.Equal([RoleChange.Changed, RoleChange.LastAdmin], outcomes.Order());

            // Back to two admins for the next round.
            var demoted = outcomes[0] == RoleChange.Changed ? other.Id : root.Id;
            Assert.Equal(RoleChange.Changed, await roles.SetAsync(demoted, "admin", default));
        }
    }
}

public sealed class AdminRoleTestsSqlite(SqliteApp app) : AdminRoleTests(app), IClassFixture<SqliteApp>;

public sealed class AdminRoleTestsPostgres(PostgresApp app) : AdminRoleTests(app), IClassFixture<PostgresApp>;
