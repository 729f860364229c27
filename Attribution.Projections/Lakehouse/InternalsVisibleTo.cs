using System.Runtime.CompilerServices;

// The Lakehouse tests copy row groups through the internal file reader/writer and simulate a crash mid-commit.
[assembly: InternalsVisibleTo("Attribution.Tests")]
