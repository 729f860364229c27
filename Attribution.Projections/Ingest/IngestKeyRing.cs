using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Ingest;

/// <summary>An ingest key as listed: never its secret.</summary>
public sealed record IngestKeyInfo(string KeyId, string Source, DateTimeOffset? CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>A key stored in PostgreSQL (made through the admin API).</summary>
public sealed record StoredIngestKey(string KeyId, string Secret, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>
/// The secrets signed ingest requests are checked against, in memory: the keys of configuration (Ingest:Keys:&lt;id&gt;)
/// and those stored in PostgreSQL, which <see cref="IngestKeyRefresher"/> keeps current. Checking a request reads no
/// database, so postbacks are still taken while PostgreSQL is away.
/// </summary>
public sealed class IngestKeyRing(IOptions<IngestOptions> options)
{
    public const string FromConfiguration = "configuration";
    public const string FromApi = "api";

    private readonly FrozenDictionary<string, string> _configured = options.Value.Keys
        .Where(k => !string.IsNullOrEmpty(k.Value))
        .ToFrozenDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);

    private volatile FrozenDictionary<string, StoredIngestKey> _stored = FrozenDictionary<string, StoredIngestKey>.Empty;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastUsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _unwritten = new(StringComparer.Ordinal);
    private readonly Lock _changing = new();
    private long _localChanges;

    /// <summary>The secret of an active key, or null.</summary>
    public string? SecretOf(string keyId) =>
        _configured.TryGetValue(keyId, out var secret) ? secret : _stored.GetValueOrDefault(keyId)?.Secret;

    public bool IsConfigured(string keyId) => _configured.ContainsKey(keyId);

    /// <summary>Remembers a successful use; the refresher writes it to PostgreSQL in batches.</summary>
    public void Used(string keyId, DateTimeOffset at)
    {
        _lastUsed.AddOrUpdate(keyId, at, (_, before) => at > before ? at : before);
        if (!_configured.ContainsKey(keyId)) _unwritten[keyId] = true;
    }

    /// <summary>Uses not yet written, handed over once.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> TakeUses()
    {
        var taken = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var id in _unwritten.Keys)
        {
            if (_unwritten.TryRemove(id, out _) && _lastUsed.TryGetValue(id, out var at)) taken[id] = at;
        }

        return taken;
    }

    /// <summary>Uses that could not be written go back, unless a later one came meanwhile.</summary>
    public void Return(IReadOnlyDictionary<string, DateTimeOffset> uses)
    {
        foreach (var (id, at) in uses) Used(id, at);
    }

    public IReadOnlyList<IngestKeyInfo> List()
    {
        var stored = _stored;
        return _configured.Keys.Select(id => new IngestKeyInfo(id, FromConfiguration, null, _lastUsed.TryGetValue(id, out var at) ? at : null))
            .Concat(stored.Values.Select(k => new IngestKeyInfo(k.KeyId, FromApi, k.CreatedAt, Later(k.LastUsedAt, _lastUsed.TryGetValue(k.KeyId, out var at) ? at : null))))
            .OrderBy(k => k.KeyId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Taken before reading the stored keys, and handed to <see cref="Replace"/> with what was read.</summary>
    public long LocalChanges { get { lock (_changing) return _localChanges; } }

    /// <summary>What PostgreSQL held when the read began: keys deleted by another instance stop verifying here. A read
    /// that began before this instance's own change is not taken (it would undo a revocation until the next read);
    /// the change's notification brings a fresh one. Returns whether it was taken.</summary>
    public bool Replace(IEnumerable<StoredIngestKey> stored, long localChangesBeforeRead)
    {
        lock (_changing)
        {
            if (_localChanges != localChangesBeforeRead) return false;
            _stored = stored.ToFrozenDictionary(k => k.KeyId, StringComparer.Ordinal);
            return true;
        }
    }

    public void Add(StoredIngestKey key) => Change(key.KeyId, key);

    public void Remove(string keyId)
    {
        Change(keyId, null);
        _lastUsed.TryRemove(keyId, out _);
        _unwritten.TryRemove(keyId, out _);
    }

    private void Change(string keyId, StoredIngestKey? key)
    {
        lock (_changing)
        {
            var keys = _stored.Values.Where(k => k.KeyId != keyId);
            _stored = (key is null ? keys : keys.Append(key)).ToFrozenDictionary(k => k.KeyId, StringComparer.Ordinal);
            _localChanges++;
        }
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
