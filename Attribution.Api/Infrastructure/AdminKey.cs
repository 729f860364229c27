using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Infrastructure;

/// <summary>Changing actions need the admin key (configuration Admin:ApiKey) in the X-Admin-Key header:
/// 401 without it, 403 when it is wrong. The comparison takes the same time whatever the key.</summary>
public static class AdminKey
{
    public const string Header = "X-Admin-Key";

    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(RequiresCredentials.Instance);
        builder.AddEndpointFilter(async (context, next) =>
        {
            var configured = context.HttpContext.RequestServices.GetRequiredService<IConfiguration>()["Admin:ApiKey"];
            if (!context.HttpContext.Request.Headers.TryGetValue(Header, out var sent) || string.IsNullOrEmpty(sent))
                return Problem(401, "Admin key required", $"Send the admin key in the {Header} header.");
            if (string.IsNullOrEmpty(configured))
                return Problem(403, "Admin actions are disabled", "Admin:ApiKey is not configured on this service.");
            return Matches(sent.ToString(), configured)
                ? await next(context)
                : Problem(403, "Wrong admin key", $"The {Header} header does not match Admin:ApiKey.");
        });
        return builder;
    }

    /// <summary>Whether a key someone sent is the configured one; false when either is missing.</summary>
    public static bool Matches(string? sent, string? configured)
    {
        if (string.IsNullOrEmpty(sent) || string.IsNullOrEmpty(configured)) return false;
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(sent));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(configured));
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    private static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}
