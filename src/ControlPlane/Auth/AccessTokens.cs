using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace StreamVerse.ControlPlane.Auth;

/// <summary>
/// JWT access tokens profiled per RFC 9068 and RFC 8725: HS256 only, <c>typ: at+jwt</c>, issuer, audience,
/// short lifetime, a session id (<c>sid</c>) that the revocation set is checked against.
/// </summary>
internal sealed class AccessTokens
{
    public const string Algorithm = SecurityAlgorithms.HmacSha256;
    public const string TokenType = "at+jwt";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _credentials;
    private readonly JwtOptions _options;
    private readonly TimeProvider _time;

    public AccessTokens(IOptions<JwtOptions> options, IOptions<ControlPlaneOptions> controlPlane, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        Key = new SymmetricSecurityKey(KeyMaterial.LoadOrCreate(_options.SigningKey, JwtOptions.Section + ":SigningKey",
            Path.Combine(Path.GetFullPath(controlPlane.Value.DataPath), "keys", "jwt.key")));
        _credentials = new SigningCredentials(Key, Algorithm);
    }

    public SymmetricSecurityKey Key { get; }

    public TimeSpan Lifetime => _options.AccessTokenLifetime;

    public string Issue(string userId, string role, string sessionId)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _options.AccessTokenLifetime,
            TokenType = TokenType,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object>
            {
                [ClaimNames.Subject] = userId,
                [ClaimNames.Role] = role,
                [ClaimNames.Session] = sessionId,
                ["jti"] = Data.Ids.New(),
            },
        });
    }

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = _options.Audience,
        IssuerSigningKey = Key,
        ValidAlgorithms = [Algorithm],
        ValidTypes = [TokenType],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = ClaimNames.Subject,
        RoleClaimType = ClaimNames.Role,
        LifetimeValidator = (notBefore, expires, _, p) =>
        {
            var now = _time.GetUtcNow().UtcDateTime;
            return expires is not null && now <= expires.Value + p.ClockSkew && (notBefore is null || now >= notBefore.Value - p.ClockSkew);
        },
    };
}
