// The safetensors format (huggingface/safetensors, docs "Format"): an 8-byte little-endian header
// length N, N bytes of UTF-8 JSON mapping each tensor name to {dtype, shape, data_offsets:[begin,end]}
// (offsets relative to the byte buffer after the header) plus an optional "__metadata__" map of
// strings, then the byte buffer, little-endian, C order. The buffer must be covered exactly, without
// holes or overlaps. This file is torch-free: tensors are (dtype, shape, bytes) here.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Gen.Pipeline.Checkpoints;

public sealed record StTensor(string DType, long[] Shape, byte[] Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

public sealed class SafeTensorsFile
{
    public SafeTensorsFile(IReadOnlyDictionary<string, string> metadata, IReadOnlyDictionary<string, StTensor> tensors, string path)
    {
        Metadata = metadata;
        Tensors = tensors;
        Path = path;
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyDictionary<string, StTensor> Tensors { get; }
    public string Path { get; }
}

public static class SafeTensors
{
    private const long MaxHeaderBytes = 100L << 20; // the reference implementation's own limit (100 MB)

    public static readonly IReadOnlyDictionary<string, int> DTypeSizes = new Dictionary<string, int>
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4,
        ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1, ["U16"] = 2, ["U32"] = 4, ["U64"] = 8,
    };

    public static void Write(string path, IEnumerable<KeyValuePair<string, StTensor>> tensors,
                             IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.Write(path, s => Write(s, tensors, metadata));

    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, StTensor>> tensors,
                             IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        var ms = new MemoryStream();
        using (var json = new Utf8JsonWriter(ms))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var kv in metadata.OrderBy(k => k.Key, StringComparer.Ordinal)) json.WriteString(kv.Key, kv.Value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in list)
            {
                if (!DTypeSizes.TryGetValue(t.DType, out int size)) throw new ArgumentException($"unknown dtype {t.DType}");
                if (t.Data.LongLength != t.ElementCount * size)
                    throw new ArgumentException($"tensor {name}: {t.Data.LongLength} bytes for {t.ElementCount} {t.DType} elements");
                json.WriteStartObject(name);
                json.WriteString("dtype", t.DType);
                json.WriteStartArray("shape");
                foreach (long d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.LongLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.LongLength;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 bytes so the buffer is aligned (as the
        // reference writer does); readers must accept either.
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)ms.Length);
        stream.Write(len);
        ms.Position = 0;
        ms.CopyTo(stream);
        foreach (var (_, t) in list) stream.Write(t.Data);
    }

    public static SafeTensorsFile Read(string path)
    {
        if (!File.Exists(path))
            throw new GenInputException($"checkpoint '{path}' does not exist; check the path (a run folder holds last.safetensors)");
        using var fs = File.OpenRead(path);
        return Read(fs, path);
    }

    public static SafeTensorsFile Read(Stream stream, string path)
    {
        var (metadata, entries, dataStart) = ReadHeader(stream, path);
        var tensors = new Dictionary<string, StTensor>(StringComparer.Ordinal);
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            var data = new byte[e.End - e.Begin];
            stream.Position = dataStart + e.Begin;
            stream.ReadExactly(data);
            tensors[e.Name] = new StTensor(e.DType, e.Shape, data);
        }
        return new SafeTensorsFile(metadata, tensors, path);
    }

    /// <summary>The __metadata__ of a safetensors file, reading only its header (the header and the
    /// file length are checked as in Read, so a truncated file is refused here too).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        if (!File.Exists(path))
            throw new GenInputException($"checkpoint '{path}' does not exist; check the path (a run folder holds last.safetensors)");
        using var fs = File.OpenRead(path);
        return ReadHeader(fs, path).Metadata;
    }

    private static (Dictionary<string, string> Metadata, List<(string Name, string DType, long[] Shape, long Begin, long End)> Entries, long DataStart)
        ReadHeader(Stream stream, string path)
    {
        long fileLength = stream.Length;
        Span<byte> len = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(len, 8, throwOnEndOfStream: false) < 8)
            throw new GenInputException($"'{path}' is not a safetensors file: {fileLength} bytes, too short for a header; the file is truncated or of another kind");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (n > (ulong)MaxHeaderBytes || (long)n > fileLength - 8)
            throw new GenInputException($"'{path}' is not a valid safetensors file: header length {n} exceeds the file ({fileLength} bytes); the file is truncated or of another kind");
        var header = new byte[n];
        stream.ReadExactly(header);
        long bufferLength = fileLength - 8 - (long)n;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new GenInputException($"'{path}' has a safetensors header that is not valid JSON ({e.Message}); the file is corrupt", e); }

        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new GenInputException($"'{path}' has a safetensors header that is not a JSON object; the file is corrupt");
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    foreach (JsonProperty m in p.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                entries.Add(ParseEntry(p, path));
            }
        }

        // Offsets must tile the buffer exactly: sorted by begin, each starts where the last ended.
        long expect = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expect)
                throw new GenInputException($"'{path}' header lies about offsets: tensor '{e.Name}' starts at byte {e.Begin} where {expect} was expected (overlap or hole); the file is corrupt");
            expect = e.End;
        }
        if (expect != bufferLength)
            throw new GenInputException(expect > bufferLength
                ? $"'{path}' is truncated: its header describes {expect} bytes of tensor data but the file holds {bufferLength}; the write was interrupted or the copy is incomplete"
                : $"'{path}' has {bufferLength - expect} bytes after the tensor data its header describes; the file is corrupt");
        return (metadata, entries, 8 + (long)n);
    }

    private static (string, string, long[], long, long) ParseEntry(JsonProperty p, string path)
    {
        string Bad(string what) => $"'{path}' has a bad header entry for '{p.Name}': {what}; the file is corrupt";
        try
        {
            if (p.Value.ValueKind != JsonValueKind.Object) throw new GenInputException(Bad("not an object"));
            string dtype = p.Value.GetProperty("dtype").GetString() ?? "";
            if (!DTypeSizes.TryGetValue(dtype, out int size)) throw new GenInputException(Bad($"unknown dtype '{dtype}'"));
            long[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (shape.Any(d => d < 0)) throw new GenInputException(Bad("negative dimension"));
            long[] off = p.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (off.Length != 2 || off[0] < 0 || off[1] < off[0]) throw new GenInputException(Bad("data_offsets must be [begin, end] with 0 <= begin <= end"));
            long numel = shape.Aggregate(1L, (a, b) => checked(a * b));
            if (off[1] - off[0] != checked(numel * size))
                throw new GenInputException($"'{path}' header lies about offsets: '{p.Name}' is {dtype}{FormatShape(shape)} = {numel * size} bytes but its offsets span {off[1] - off[0]}; the file is corrupt");
            return (p.Name, dtype, shape, off[0], off[1]);
        }
        catch (KeyNotFoundException) { throw new GenInputException(Bad("missing dtype, shape or data_offsets")); }
        catch (InvalidOperationException) { throw new GenInputException(Bad("a field has the wrong JSON type")); }
        catch (FormatException) { throw new GenInputException(Bad("a number is out of range")); }
        catch (OverflowException) { throw new GenInputException(Bad("sizes overflow")); }
    }

    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
