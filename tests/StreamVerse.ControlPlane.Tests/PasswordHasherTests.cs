using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;

namespace StreamVerse.ControlPlane.Tests;

public sealed class PasswordHasherTests
{
    private static readonly PasswordHasher Hasher = new(Options.Create(new ControlPlaneOptions()));

    [Fact]
    public async Task Round_trip_salted_and_parameters_in_the_string()
    {
        var a = await Hasher.HashAsync("pässwörd with spaces", HashPriority.SignIn, default);
        var b = await Hasher.HashAsync("pässwörd with spaces", HashPriority.SignIn, default);
        Assert.NotEqual(a, b);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", a);
        Assert.True(await Hasher.VerifyAsync("pässwörd with spaces", a, default));
        Assert.False(await Hasher.VerifyAsync("passwörd with spaces", a, default));

        // Weakened parameters in a stored string do not verify against the real hash.
        Assert.False(await Hasher.VerifyAsync("pässwörd with spaces", a.Replace("t=2", "t=1", StringComparison.Ordinal), default));
        Assert.False(await Hasher.VerifyAsync("pässwörd with spaces", a.Replace("argon2id", "argon2i", StringComparison.Ordinal), default));
        Assert.False(await Hasher.VerifyAsync("x", "!", default));
    }
}
