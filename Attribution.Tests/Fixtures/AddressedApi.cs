using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Tests.Fixtures;

/// <summary>A test service whose requests come from <paramref name="connectedFrom"/>. The test server's requests come
/// from no address (as over a Unix socket, where the proxy is the only client); this gives them the address a direct
/// TCP client has.</summary>
public sealed class AddressedApi(Dictionary<string, string?> settings, IPAddress? connectedFrom = null) : ApiFactory(settings)
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (connectedFrom is not null)
            builder.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new ConnectedFrom(connectedFrom)));
    }

    private sealed class ConnectedFrom(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext http, RequestDelegate inner) =>
            {
                http.Connection.RemoteIpAddress = address;
                return inner(http);
            });
            next(app);
        };
    }
}
