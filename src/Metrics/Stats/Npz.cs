// NumPy's .npy/.npz formats (numpy/lib/format.py of numpy 1.24, NEP 1), enough for FID statistics:
// pytorch-fid saves `np.savez_compressed(path, mu=mu, sigma=sigma)` (fid_score.py save_fid_stats): a ZIP
// whose deflated members `mu.npy` and `sigma.npy` are NPY v1.0 files: "\x93NUMPY", 1, 0, uint16-LE header
// length, then the repr of {'descr': '<f8', 'fortran_order': False, 'shape': (d,), } plus 21 − len(str(d))
// spaces of growth room, padded with spaces and a final '\n' so the data starts on a 64-byte boundary, then
// the raw little-endian doubles in C order. The writer reproduces those members byte for byte (the ZIP
// container itself differs from Python's zipfile in timestamps and deflate stream, which readers ignore).
// The reader accepts stored or deflated members, NPY v1/v2/v3, '<f8', '<f4', '|u1', either order, extra keys.
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Gen.Pipeline;

namespace Gen.Metrics.Stats;

/// <summary>An array read from or written to an .npy member: shape and C-order values, stored as float64
/// ('&lt;f8', the default) or as bytes ('|u1', e.g. UTF-8 text such as Gen's provenance record).</summary>
public sealed record NpyArray(long[] Shape, double[] Data, string Descr = "<f8")
{
    public static NpyArray Text(string text)
    {
        byte[] b = Encoding.UTF8.GetBytes(text);
        return new NpyArray([b.Length], b.Select(x => (double)x).ToArray(), "|u1");
    }

    public string AsText() => Encoding.UTF8.GetString(Data.Select(v => (byte)v).ToArray());
}

public static class Npz
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int ArrayAlign = 64;             // numpy format.py ARRAY_ALIGN
    private const int GrowthAxisMaxDigits = 21;    // numpy format.py GROWTH_AXIS_MAX_DIGITS

    /// <summary>The NPY v1.0 bytes numpy writes for a float64 C-order array.</summary>
    public static byte[] NpyBytes(NpyArray a)
    {
        string shape = a.Shape.Length switch
        {
            0 => "()",
            1 => $"({a.Shape[0]},)",
            _ => "(" + string.Join(", ", a.Shape) + ")",
        };
        bool u1 = a.Descr == "|u1";
        if (!u1 && a.Descr != "<f8") throw new ArgumentException($"NPY dtype {a.Descr} is not written by Gen");
        var header = new StringBuilder($"{{'descr': '{a.Descr}', 'fortran_order': False, 'shape': ").Append(shape).Append(", }");
        if (a.Shape.Length > 0) header.Append(' ', GrowthAxisMaxDigits - a.Shape[0].ToString(CultureInfo.InvariantCulture).Length);
        int hlen = header.Length + 1;
        int padlen = ArrayAlign - ((Magic.Length + 2 + 2 + hlen) % ArrayAlign);
        header.Append(' ', padlen).Append('\n');
        byte[] text = Encoding.Latin1.GetBytes(header.ToString());
        var bytes = new byte[Magic.Length + 4 + text.Length + (u1 ? 1L : 8L) * a.Data.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), checked((ushort)text.Length));
        text.CopyTo(bytes, 10);
        int at = 10 + text.Length;
        if (u1) for (int i = 0; i < a.Data.Length; i++) bytes[at + i] = checked((byte)a.Data[i]);
        else for (int i = 0; i < a.Data.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(at + 8 * i), a.Data[i]);
        return bytes;
    }

    /// <summary>Writes arrays as np.savez_compressed does (deflated members named key + ".npy"), atomically.</summary>
    public static void Write(string path, IReadOnlyList<(string Key, NpyArray Array)> arrays, bool compressed = true) =>
        AtomicFile.Write(path, s =>
        {
            using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (key, array) in arrays)
            {
                var entry = zip.CreateEntry(key + ".npy", compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero); // as numpy's zipfile: no real time
                using var es = entry.Open();
                es.Write(NpyBytes(array));
            }
        });

    /// <summary>Reads every float and uint8 array of an .npz (other dtypes are skipped), by key without ".npy".</summary>
    public static Dictionary<string, NpyArray> Read(string path)
    {
        if (!File.Exists(path)) throw new GenInputException($"statistics file '{path}' does not exist; check the path");
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (ZipArchiveEntry e in zip.Entries)
            {
                if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var es = e.Open();
                using var ms = new MemoryStream();
                es.CopyTo(ms);
                NpyArray? a = ParseNpy(ms.ToArray(), $"{path}:{e.FullName}");
                if (a is not null) result[e.FullName[..^4]] = a;
            }
        }
        catch (InvalidDataException e)
        {
            throw new GenInputException($"'{path}' is not a valid .npz (ZIP) file ({e.Message}); write statistics with 'gen stats' or numpy.savez", e);
        }
        return result;
    }

    /// <summary>Parses one .npy member; null for dtypes other than float and uint8.</summary>
    public static NpyArray? ParseNpy(byte[] b, string name)
    {
        GenInputException Bad(string what) => new($"'{name}' is not a valid .npy array: {what}");
        if (b.Length < 10 || !b.AsSpan(0, 6).SequenceEqual(Magic)) throw Bad("missing \\x93NUMPY magic");
        int major = b[6];
        int headerLen, start;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)); start = 10; }
        else if (major is 2 or 3) { headerLen = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8))); start = 12; }
        else throw Bad($"format version {major} is unknown");
        if (start + headerLen > b.Length) throw Bad("header runs past the end");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(b, start, headerLen);
        string descr = Field(header, "descr") ?? throw Bad("no 'descr'");
        string order = Field(header, "fortran_order") ?? throw Bad("no 'fortran_order'");
        string shapeText = Field(header, "shape") ?? throw Bad("no 'shape'");
        long[] shape;
        try
        {
            shape = shapeText.Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                             .Select(s => long.Parse(s.TrimEnd('L'), CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException) { throw Bad($"shape '{shapeText}' is not a tuple of integers"); }
        descr = descr.Trim('\'', '"');
        int size = descr switch { "<f8" => 8, "<f4" => 4, ">f8" => 8, ">f4" => 4, "|u1" => 1, _ => 0 };
        if (size == 0) return null;
        bool big = descr[0] == '>';
        long n = shape.Aggregate(1L, (x, y) => checked(x * y));
        int data = start + headerLen;
        if (data + n * size != b.Length) throw Bad($"{b.Length - data} data bytes for {n} elements of {descr}");
        var values = new double[n];
        for (long i = 0; i < n; i++)
        {
            var s = b.AsSpan(data + (int)(i * size), size);
            values[i] = size switch
            {
                8 => big ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s),
                4 => big ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s),
                _ => s[0],
            };
        }
        if (order.StartsWith("True", StringComparison.Ordinal) && shape.Length > 1) values = FortranToC(values, shape);
        return new NpyArray(shape, values, size == 1 ? "|u1" : "<f8");
    }

    private static string? Field(string header, string key)
    {
        int k = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (k < 0) return null;
        int colon = header.IndexOf(':', k);
        int i = colon + 1;
        while (i < header.Length && header[i] == ' ') i++;
        int end = header[i] == '(' ? header.IndexOf(')', i) + 1 : header.IndexOfAny([',', '}'], i);
        return end <= i ? null : header[i..end].Trim();
    }

    private static double[] FortranToC(double[] f, long[] shape)
    {
        var c = new double[f.Length];
        var idx = new long[shape.Length];
        for (long i = 0; i < f.Length; i++)
        {
            // i runs over C order; the Fortran offset strides the first axis fastest.
            long off = 0, stride = 1;
            for (int d = 0; d < shape.Length; d++) { off += idx[d] * stride; stride *= shape[d]; }
            c[i] = f[off];
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return c;
    }
}
