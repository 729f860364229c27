using Hangfire.AspNetCore;
using Hangfire.Logging;
using Microsoft.Extensions.Logging;

namespace Attribution.Projections.Jobs;

/// <summary>
/// Hangfire's logging is process-wide: the last host to configure Hangfire gives every host its logger factory. When
/// that host stops while others run (the tests start many), its disposed factory would make every later Hangfire call
/// that asks for a logger throw, and a worker stop fetching jobs. A logger asked for then logs nothing instead.
/// </summary>
internal sealed class HangfireLogging(ILoggerFactory factory) : ILogProvider
{
    private readonly AspNetCoreLogProvider _inner = new(factory);

    public ILog GetLogger(string name)
    {
        try
        {
            return new Guarded(_inner.GetLogger(name));
        }
        catch (ObjectDisposedException)
        {
            return Guarded.Silent;
        }
    }

    private sealed class Guarded(ILog? inner) : ILog
    {
        public static readonly Guarded Silent = new(null);

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            if (inner is null) return false;
            try
            {
                return inner.Log(logLevel, messageFunc!, exception);
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
