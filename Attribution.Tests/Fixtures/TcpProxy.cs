using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Attribution.Tests.Fixtures;

/// <summary>A TCP relay in front of a server, to take the server away from one client only: <see cref="Cut"/> closes
/// every relayed connection and refuses new ones, as a PostgreSQL that went down would, while the shared server
/// keeps serving every other test.</summary>
public sealed class TcpProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly ConcurrentBag<TcpClient> _open = [];
    private readonly CancellationTokenSource _stop = new();

    private TcpProxy(string host, int port)
    {
        (_host, _port) = (host, port);
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static TcpProxy To(string host, int port) => new(host, port);

    /// <summary>Closes every connection and stops listening: new ones are refused.</summary>
    public void Cut()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var client in _open) client.Dispose();
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested) Cut();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var upstream = new TcpClient();
                await upstream.ConnectAsync(_host, _port, _stop.Token);
                _open.Add(client);
                _open.Add(upstream);
                _ = PumpAsync(client, upstream);
                _ = PumpAsync(upstream, client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Cut.
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // One side went away or the proxy was cut.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
