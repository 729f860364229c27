using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Attribution.Projections.Pipeline;

/// <summary>
/// Points Confluent.Kafka at Debian's <c>librdkafka.so.1</c>. The client asks for "librdkafka" (and CentOS-named
/// variants), which the loader finds only as the unversioned <c>librdkafka.so</c> that librdkafka-dev adds; the
/// runtime package (librdkafka1, all a fresh machine or the image installs) ships just the versioned name.
/// </summary>
internal static class ConfluentNativeLibrary
{
    private const string SystemLibrary = "librdkafka.so.1";

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "Every use of the Kafka client goes through this assembly; the resolver must be in place before the first one.")]
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(ClientConfig).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.EndsWith("librdkafka", StringComparison.Ordinal) && NativeLibrary.TryLoad(SystemLibrary, out var handle)
            ? handle
            : IntPtr.Zero;
}
