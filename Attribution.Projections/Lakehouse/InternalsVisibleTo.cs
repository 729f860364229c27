using System.Runtime.CompilerServices;

// The Lakehouse tests check encoder internals (thrift, RLE, Avro primitives) and simulate a crash mid-commit.
[assembly: InternalsVisibleTo("Attribution.Tests")]
