using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Attribution.Projections.Pipeline;

/// <summary>The few librdkafka C functions Confluent.Kafka does not expose: the mock cluster (the embedded broker)
/// and the cluster id, bound to the library librdkafka.redist ships and the client loads.</summary>
internal static partial class Librdkafka
{
    private const string Lib = "librdkafka";

    // The package ships librdkafka.so (linked against Cyrus SASL for GSSAPI) and centos8-librdkafka.so (without it);
    // Confluent.Kafka loads the first that loads, in this order. Loading the same file here binds these functions to
    // the library the client uses, instead of a second copy of librdkafka in the process.
    private static readonly string[] Candidates = ["librdkafka", "centos8-librdkafka"];

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The resolver must be in place before the first call into librdkafka from this assembly.")]
    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(Librdkafka).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != Lib) return IntPtr.Zero;
        foreach (var candidate in Candidates)
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out var handle)) return handle;
        return IntPtr.Zero;
    }

    public const int ProducerType = 0;

    [LibraryImport(Lib, EntryPoint = "rd_kafka_new")]
    public static partial IntPtr New(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_destroy")]
    public static partial void Destroy(IntPtr rk);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_new")]
    public static partial IntPtr ConfNew();

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_destroy")]
    public static partial void ConfDestroy(IntPtr conf);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ConfSet(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_clusterid")]
    public static partial IntPtr ClusterId(IntPtr rk, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mem_free")]
    public static partial void MemFree(IntPtr rk, IntPtr ptr);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_new")]
    public static partial IntPtr MockClusterNew(IntPtr rk, int brokerCount);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    public static partial void MockClusterDestroy(IntPtr mcluster);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    public static partial IntPtr MockClusterBootstraps(IntPtr mcluster);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockTopicCreate(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    public static partial void MockGroupInitialRebalanceDelay(IntPtr mcluster, int delayMs);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_down")]
    public static partial int MockBrokerSetDown(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_up")]
    public static partial int MockBrokerSetUp(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_version_str")]
    private static partial IntPtr VersionStringPtr();

    /// <summary>The version of the librdkafka these functions are bound to.</summary>
    public static string VersionString() => Marshal.PtrToStringUTF8(VersionStringPtr()) ?? "";

    [LibraryImport(Lib, EntryPoint = "rd_kafka_err2str")]
    public static partial IntPtr ErrorToString(int err);

    public static string ErrorText(byte[] errstr) => Encoding.UTF8.GetString(errstr).TrimEnd('\0');

    public static string ErrorText(int err) => Marshal.PtrToStringUTF8(ErrorToString(err)) ?? $"error {err}";

    /// <summary>Asks a cluster for its id through a short-lived client handle.</summary>
    public static string? FetchClusterId(string bootstrapServers, TimeSpan timeout)
    {
        var err = new byte[512];
        var conf = ConfNew();
        if (ConfSet(conf, "bootstrap.servers", bootstrapServers, err, (UIntPtr)err.Length) != 0 ||
            ConfSet(conf, "log_level", "3", err, (UIntPtr)err.Length) != 0)
        {
            ConfDestroy(conf);
            throw new InvalidOperationException($"librdkafka configuration refused: {ErrorText(err)}");
        }

        var rk = New(ProducerType, conf, err, (UIntPtr)err.Length);
        if (rk == IntPtr.Zero)
        {
            ConfDestroy(conf);
            throw new InvalidOperationException($"librdkafka could not create a client: {ErrorText(err)}");
        }

        try
        {
            var id = ClusterId(rk, (int)timeout.TotalMilliseconds);
            if (id == IntPtr.Zero) return null;
            try
            {
                return Marshal.PtrToStringUTF8(id);
            }
            finally
            {
                MemFree(rk, id);
            }
        }
        finally
        {
            Destroy(rk);
        }
    }
}
