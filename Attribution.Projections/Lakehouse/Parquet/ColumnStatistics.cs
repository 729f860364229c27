using System.Buffers.Binary;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>
/// Min, max, null and NaN counts of a column chunk or file, kept unboxed so that appending a value allocates nothing.
/// Bounds follow Iceberg's order (ColumnValues.Compare): strings by UTF-8 bytes, which is code point order; doubles
/// by IEEE total order; NaN counted apart and never a bound.
/// </summary>
internal sealed class ColumnStatistics(ColumnType type)
{
    private bool _hasBounds;
    private long _minLong, _maxLong;
    private double _minDouble, _maxDouble;
    private bool _minBool, _maxBool;
    private byte[] _minBytes = [], _maxBytes = [];

    public ColumnType Type { get; } = type;
    public long Nulls { get; set; }
    public long NaNs { get; private set; }
    public bool HasBounds => _hasBounds;

    public void AddBoolean(bool value)
    {
        if (!_hasBounds) (_minBool, _maxBool, _hasBounds) = (value, value, true);
        else
        {
            _minBool &= value;
            _maxBool |= value;
        }
    }

    /// <summary>Int, Long and TimestampTz values.</summary>
    public void AddLong(long value)
    {
        if (!_hasBounds) (_minLong, _maxLong, _hasBounds) = (value, value, true);
        else if (value < _minLong) _minLong = value;
        else if (value > _maxLong) _maxLong = value;
    }

    public void AddDouble(double value)
    {
        if (double.IsNaN(value))
        {
            NaNs++;
            return;
        }
        if (!_hasBounds) (_minDouble, _maxDouble, _hasBounds) = (value, value, true);
        else if (ColumnValues.TotalOrder(value) < ColumnValues.TotalOrder(_minDouble)) _minDouble = value;
        else if (ColumnValues.TotalOrder(value) > ColumnValues.TotalOrder(_maxDouble)) _maxDouble = value;
    }

    public void AddUtf8(ReadOnlySpan<byte> value)
    {
        if (!_hasBounds)
        {
            _minBytes = value.ToArray();
            _maxBytes = _minBytes;
            _hasBounds = true;
        }
        else if (value.SequenceCompareTo(_minBytes) < 0) _minBytes = value.ToArray();
        else if (value.SequenceCompareTo(_maxBytes) > 0) _maxBytes = value.ToArray();
    }

    public void Merge(ColumnStatistics other)
    {
        Nulls += other.Nulls;
        NaNs += other.NaNs;
        if (!other._hasBounds) return;
        switch (Type)
        {
            case ColumnType.Boolean:
                AddBoolean(other._minBool);
                AddBoolean(other._maxBool);
                break;
            case ColumnType.Double:
                AddDouble(other._minDouble);
                AddDouble(other._maxDouble);
                break;
            case ColumnType.String:
                AddUtf8(other._minBytes);
                AddUtf8(other._maxBytes);
                break;
            default:
                AddLong(other._minLong);
                AddLong(other._maxLong);
                break;
        }
    }

    /// <summary>Iceberg's binary single-value form of the lower bound, which for these types is also Parquet's PLAIN.</summary>
    public byte[]? Lower() => _hasBounds ? Bytes(_minLong, _minDouble, _minBool, _minBytes) : null;

    public byte[]? Upper() => _hasBounds ? Bytes(_maxLong, _maxDouble, _maxBool, _maxBytes) : null;

    /// <summary>Parquet's TYPE_ORDER rule for floats: a zero minimum is written as -0.0, a zero maximum as +0.0.</summary>
    public byte[]? ParquetMin() => _hasBounds ? Bytes(_minLong, Type == ColumnType.Double && _minDouble == 0 ? -0.0 : _minDouble, _minBool, _minBytes) : null;

    public byte[]? ParquetMax() => _hasBounds ? Bytes(_maxLong, Type == ColumnType.Double && _maxDouble == 0 ? 0.0 : _maxDouble, _maxBool, _maxBytes) : null;

    private byte[] Bytes(long l, double d, bool b, byte[] s)
    {
        switch (Type)
        {
            case ColumnType.Boolean:
                return [b ? (byte)1 : (byte)0];
            case ColumnType.Int:
            {
                var bytes = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(bytes, checked((int)l));
                return bytes;
            }
            case ColumnType.Long:
            case ColumnType.TimestampTz:
            {
                var bytes = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(bytes, l);
                return bytes;
            }
            case ColumnType.Double:
            {
                var bytes = new byte[8];
                BinaryPrimitives.WriteDoubleLittleEndian(bytes, d);
                return bytes;
            }
            case ColumnType.String:
                return s;
            default:
                throw new ArgumentOutOfRangeException(nameof(Type));
        }
    }
}
