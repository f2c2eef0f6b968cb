using System.Buffers.Binary;
using System.Globalization;

namespace ChildShare.Core.Activity;

/// <summary>
/// Walks a bucket-year's payload (format 1, STORAGE.md) in place, without building a record per provider child: the string table
/// first (<see cref="ReadHeader"/>), then each provider child's fields in the order they are stored. For readers that only
/// fold (the aggregate report); <see cref="ActivityStore.Decode"/> is the reader that builds records, and both read the same
/// layout that <see cref="ActivityStore.Encode"/> writes (the tests hold them to the same result).
/// </summary>
internal ref struct BucketPayloadReader(ReadOnlySpan<byte> payload)
{
    private readonly ReadOnlySpan<byte> _payload = payload;
    private int _position;

    public readonly bool IsEmpty => _payload.IsEmpty;

    /// <summary>Checks the format; returns how many strings the table holds (read them with <see cref="ReadUtf8"/>: index 1 first, 0 means none).</summary>
    public int ReadHeader()
    {
        var format = ReadVarInt();
        if (format != 1)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Activity bucket format {format} is not known; rebuild the activity store ({ActivityStore.Rebuilding})."));
        }

        return ReadVarInt();
    }

    /// <summary>A 7-bit encoded integer (as <see cref="BinaryWriter.Write7BitEncodedInt"/> writes it).</summary>
    public int ReadVarInt()
    {
        var result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = _payload[_position++];
            result |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new InvalidDataException("An activity bucket holds a malformed number; rebuild the activity store.");
    }

    /// <summary>A length-prefixed UTF-8 string (as <see cref="BinaryWriter.Write(string)"/> writes it), not decoded.</summary>
    public ReadOnlySpan<byte> ReadUtf8()
    {
        var length = ReadVarInt();
        var text = _payload.Slice(_position, length);
        _position += length;
        return text;
    }

    public long ReadInt64()
    {
        var value = BinaryPrimitives.ReadInt64LittleEndian(_payload[_position..]);
        _position += 8;
        return value;
    }

    public ushort ReadUInt16()
    {
        var value = BinaryPrimitives.ReadUInt16LittleEndian(_payload[_position..]);
        _position += 2;
        return value;
    }

    public uint ReadUInt32()
    {
        var value = BinaryPrimitives.ReadUInt32LittleEndian(_payload[_position..]);
        _position += 4;
        return value;
    }

    /// <summary>Skips a provider child's activities: <paramref name="count"/> of (program, service type, month map, a mask per month present).</summary>
    public void SkipActivities(int count)
    {
        for (var a = 0; a < count; a++)
        {
            ReadVarInt();
            ReadVarInt();
            var present = ReadUInt16();
            _position += 4 * System.Numerics.BitOperations.PopCount(present);
        }
    }
}
