using System.Runtime.InteropServices;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// The embedded database (e-mails, password hashes) and the key files are the daemon user's alone, whatever umask the
/// daemon was started with: here the shell's usual 022, which leaves new files 0644 unless the code says otherwise.
/// In a collection that runs alone: the umask is the process's, and other tests must not create files meanwhile.
/// </summary>
[Collection(nameof(ProcessWideStateCollection))]
public sealed class DataFileModeTests
{
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = OwnerFile | UnixFileMode.UserExecute;

    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);

    private static async Task WithDaemonAsync(string data, Func<IServiceProvider, Task> use)
    {
        await using var app = OriginHost.Build(["--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0"]);
        await app.StartAsync();
        try
        {
            await use(app.Services);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    /// <summary>Writes through the daemon's own database, so SQLite has a -wal and a -shm open.</summary>
    private static async Task WriteAsync(IServiceProvider services)
    {
        var database = (Data.Database)services.GetService(typeof(Data.Database))!;
        await using var db = await database.OpenAsync(default);
        await db.ExecAsync("INSERT INTO categories (name) VALUES (@n)", [("n", "c" + Guid.NewGuid().ToString("N"))], default);
    }

    private static void AssertOwnerOnly(string data)
    {
        foreach (var file in new[] { "controlplane.db", "controlplane.db-wal", "controlplane.db-shm", "keys/jwt.key", "keys/playback.key" })
        {
            var path = Path.Combine(data, file);
            Assert.True(File.Exists(path), file + " missing");
            Assert.True(File.GetUnixFileMode(path) == OwnerFile, $"{file}: {File.GetUnixFileMode(path)}");
        }

        Assert.True(File.GetUnixFileMode(Path.Combine(data, "keys")) == OwnerDirectory, $"keys/: {File.GetUnixFileMode(Path.Combine(data, "keys"))}");
    }

    [Fact]
    public async Task Database_wal_shm_and_keys_are_owner_only_under_umask_022()
    {
        var data = Directory.CreateTempSubdirectory("sv-modes-").FullName;
        var previous = Umask(Convert.ToUInt32("022", 8));
        try
        {
            await WithDaemonAsync(data, async app =>
            {
                await WriteAsync(app);
                AssertOwnerOnly(data);
            });
        }
        finally
        {
            Umask(previous);
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_deployment_made_before_the_rule_is_narrowed_at_start()
    {
        var data = Directory.CreateTempSubdirectory("sv-modes-").FullName;
        var previous = Umask(Convert.ToUInt32("022", 8));
        try
        {
            await WithDaemonAsync(data, WriteAsync);

            // What an older version left: everything world-readable (-wal and -shm as a crash would leave them).
            var wide = OwnerFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            foreach (var file in new[] { "controlplane.db", "keys/jwt.key", "keys/playback.key" })
            {
                File.SetUnixFileMode(Path.Combine(data, file), wide);
            }

            foreach (var file in new[] { "controlplane.db-wal", "controlplane.db-shm" })
            {
                await File.WriteAllBytesAsync(Path.Combine(data, file), []);
                File.SetUnixFileMode(Path.Combine(data, file), wide);
            }

            File.SetUnixFileMode(Path.Combine(data, "keys"), OwnerDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

            await WithDaemonAsync(data, async app =>
            {
                await WriteAsync(app);
                AssertOwnerOnly(data);
            });
        }
        finally
        {
            Umask(previous);
            Directory.Delete(data, recursive: true);
        }
    }
}
