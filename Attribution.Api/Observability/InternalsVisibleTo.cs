using System.Runtime.CompilerServices;

// The exporter's naming, escaping and bucketing rules are tested directly, without widening the public API.
[assembly: InternalsVisibleTo("Attribution.Tests")]
