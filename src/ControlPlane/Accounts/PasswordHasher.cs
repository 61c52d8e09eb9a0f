using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary>
/// Argon2id (RFC 9106) with p = 1 and the configured memory and passes (at least OWASP's m = 19 MiB, t = 2),
/// stored in the PHC string format <c>$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH</c> (unpadded base64), so
/// parameters can be raised later and old hashes still verify. Runs are admitted by an <see cref="Argon2Gate"/>:
/// at most one per core (each holds m KiB of memory and a core for its whole duration, so a burst queues instead
/// of exhausting memory and starving the thread pool), sign-ins ahead of registrations, and bounded queues
/// (<see cref="ControlPlaneOptions.Argon2QueueLimit"/>, <see cref="ControlPlaneOptions.Argon2RegistrationQueueLimit"/>)
/// past which a run is refused with <see cref="Argon2BusyException"/>.
/// </summary>
internal sealed class PasswordHasher
{
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private readonly int _memoryKiB;
    private readonly int _iterations;
    private readonly string _dummy;
    private long _computations;

    public PasswordHasher(IOptions<ControlPlaneOptions> options)
    {
        Gate = new Argon2Gate(Environment.ProcessorCount, options.Value.Argon2QueueLimit, options.Value.Argon2RegistrationQueueLimit);
        _memoryKiB = options.Value.Argon2MemoryKiB;
        _iterations = options.Value.Argon2Iterations;
        _dummy = Hash("not a password: equalises the time of a login for an unknown e-mail");
    }

    /// <summary>Argon2id computations so far (hashes and verifications, dummy ones included): what the login
    /// timing test counts instead of timing them.</summary>
    internal long Computations => Interlocked.Read(ref _computations);

    /// <summary>The memory (KiB) and passes the dummy verification runs with: those of a freshly made hash.</summary>
    internal (int MemoryKiB, int Iterations) DummyCost => (_memoryKiB, _iterations);

    internal Argon2Gate Gate { get; }

    public Task<string> HashAsync(string password, HashPriority priority, CancellationToken cancellationToken) => Gated(() => Hash(password), priority, cancellationToken);

    public Task<bool> VerifyAsync(string password, string encoded, CancellationToken cancellationToken) => Gated(() => Verify(password, encoded), HashPriority.SignIn, cancellationToken);

    /// <summary>Spends the time of one verification, for a login whose account does not exist.</summary>
    public Task VerifyDummyAsync(string password, CancellationToken cancellationToken) => Gated(() => Verify(password, _dummy), HashPriority.SignIn, cancellationToken);

    private async Task<T> Gated<T>(Func<T> work, HashPriority priority, CancellationToken cancellationToken)
    {
        if (!await Gate.EnterAsync(priority, cancellationToken).ConfigureAwait(false))
        {
            throw new Argon2BusyException();
        }

        try
        {
            return work();
        }
        finally
        {
            Gate.Release(priority);
        }
    }

    internal string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Compute(password, salt, _memoryKiB, _iterations, HashBytes);
        return string.Create(CultureInfo.InvariantCulture,
            $"$argon2id$v=19$m={_memoryKiB},t={_iterations},p=1${B64(salt)}${B64(hash)}");
    }

    internal bool Verify(string password, string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length != 6 || parts[1] != "argon2id" || parts[2] != "v=19")
        {
            return false;
        }

        int m = 0, t = 0, p = 0;
        foreach (var kv in parts[3].Split(','))
        {
            var value = int.Parse(kv.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture);
            switch (kv[0])
            {
                case 'm': m = value; break;
                case 't': t = value; break;
                case 'p': p = value; break;
                default: return false;
            }
        }

        if (p != 1 || m < 8 || t < 1)
        {
            return false;
        }

        var salt = FromB64(parts[4]);
        var expected = FromB64(parts[5]);
        var actual = Compute(password, salt, m, t, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private byte[] Compute(string password, byte[] salt, int memoryKiB, int iterations, int length)
    {
        Interlocked.Increment(ref _computations);
        var bytes = Encoding.UTF8.GetBytes(password);
        try
        {
            using var argon = new Argon2id(bytes)
            {
                Salt = salt,
                DegreeOfParallelism = 1,
                Iterations = iterations,
                MemorySize = memoryKiB,
            };
            return argon.GetBytes(length);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static byte[] FromB64(string text) => Convert.FromBase64String(text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '='));
}
