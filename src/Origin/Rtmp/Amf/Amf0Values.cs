namespace StreamVerse.Origin.Rtmp.Amf;

/// <summary>AMF0 type markers (Action Message Format AMF 0 specification, §2.1).</summary>
internal enum Amf0Marker : byte
{
    Number = 0x00,
    Boolean = 0x01,
    String = 0x02,
    Object = 0x03,
    MovieClip = 0x04,
    Null = 0x05,
    Undefined = 0x06,
    Reference = 0x07,
    EcmaArray = 0x08,
    ObjectEnd = 0x09,
    StrictArray = 0x0A,
    Date = 0x0B,
    LongString = 0x0C,
    Unsupported = 0x0D,
    RecordSet = 0x0E,
    XmlDocument = 0x0F,
    TypedObject = 0x10,
    AvmPlusObject = 0x11,
}

/// <summary>
/// Decoded AMF0 values are plain CLR objects: <see cref="double"/>, <see cref="bool"/>, <see cref="string"/>,
/// <c>null</c>, <see cref="Amf0Undefined"/>, <see cref="Amf0Object"/> (object or ECMA array),
/// <see cref="List{T}"/> of values (strict array) and <see cref="Amf0Date"/>.
/// </summary>
internal sealed class Amf0Undefined
{
    public static readonly Amf0Undefined Value = new();

    private Amf0Undefined()
    {
    }

    public override string ToString() => "undefined";
}

/// <summary>AMF0 date (§2.13): milliseconds since the Unix epoch, UTC, and a time-zone field that should be 0.</summary>
internal readonly record struct Amf0Date(double UnixMilliseconds, short TimeZone);

/// <summary>An AMF0 anonymous object (§2.5) or ECMA array (§2.10): ordered properties, duplicate names kept.</summary>
internal sealed class Amf0Object
{
    public Amf0Object(bool isEcmaArray = false)
    {
        IsEcmaArray = isEcmaArray;
    }

    public bool IsEcmaArray { get; }

    public List<KeyValuePair<string, object?>> Properties { get; } = [];

    public Amf0Object Add(string name, object? value)
    {
        Properties.Add(new(name, value));
        return this;
    }

    public bool TryGetValue(string name, out object? value)
    {
        foreach (var property in Properties)
        {
            if (string.Equals(property.Key, name, StringComparison.Ordinal))
            {
                value = property.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public string? GetString(string name) => TryGetValue(name, out var value) ? value as string : null;

    public double? GetNumber(string name) => TryGetValue(name, out var value) && value is double d ? d : null;
}
