using Attribution.Domain.Security;

namespace Attribution.Api.Tracking;

/// <summary>The sender's side of signed ingest, for our own clients (the traffic generator, the benchmark, the tests):
/// signs every request that carries a body with an ingest key, as a partner's server would.</summary>
public sealed class IngestSigningHandler(string keyId, string secret, TimeProvider? clock = null) : DelegatingHandler
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public IngestSigningHandler(string keyId, string secret, HttpMessageHandler inner) : this(keyId, secret) => InnerHandler = inner;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Content is not null && !request.Headers.Contains(IngestSignature.SignatureHeader))
        {
            var body = await request.Content.ReadAsByteArrayAsync(cancellationToken);
            // Sent as the bytes signed: buffered content would be, but a stream would not read twice.
            var signed = new ByteArrayContent(body);
            foreach (var h in request.Content.Headers) signed.Headers.TryAddWithoutValidation(h.Key, h.Value);
            request.Content.Dispose();
            request.Content = signed;
            request.Headers.Add(IngestSignature.KeyIdHeader, keyId);
            request.Headers.Add(IngestSignature.SignatureHeader, IngestSignature.Header(secret, _clock.GetUtcNow(), body));
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
