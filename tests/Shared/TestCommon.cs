// Helpers every Gen test project shares (linked into each one by its .csproj): process set-up, a
// temporary folder that removes itself, and writers for the IDX format (MNIST's files) so synthetic
// datasets go through the same readers as real ones.
using System.IO.Compression;

namespace Gen.Testing;

public static class TestProcess
{
    /// <summary>ATen's kernel choice and glibc malloc tuning as the CLI uses them, no network, and optionally one intra-op thread
    /// (tests share 2 cores; one thread keeps timing-sensitive tests predictable).</summary>
    public static void Init(bool oneThread = false)
    {
        Gen.Pipeline.CpuKernels.Apply();
        Gen.Pipeline.MallocTuning.Apply();
        Environment.SetEnvironmentVariable("GEN_OFFLINE", "1");
        if (oneThread) TorchSharp.torch.set_num_threads(1);
    }
}

public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gen-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

public static class Idx
{
    /// <summary>An IDX file of unsigned bytes (type 0x08) with the given dimensions, big-endian sizes.</summary>
    public static byte[] Bytes(byte[] data, params int[] dims)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        b[2] = 0x08; b[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++)
        {
            int v = dims[d], at = 4 + 4 * d;
            b[at] = (byte)(v >> 24); b[at + 1] = (byte)(v >> 16); b[at + 2] = (byte)(v >> 8); b[at + 3] = (byte)v;
        }
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    public static byte[] Images(byte[] pixels, int n, int h, int w) => Bytes(pixels, n, h, w);

    public static byte[] Labels(byte[] labels) => Bytes(labels, labels.Length);

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>Writes PREFIX-images-idx3-ubyte[.gz] and PREFIX-labels-idx1-ubyte[.gz] into folder.</summary>
    public static void WritePair(string folder, string prefix, byte[] pixels, byte[] labels, int size, bool gz)
    {
        Directory.CreateDirectory(folder);
        string ext = gz ? ".gz" : "";
        byte[] img = Images(pixels, labels.Length, size, size), lab = Labels(labels);
        System.IO.File.WriteAllBytes(System.IO.Path.Combine(folder, $"{prefix}-images-idx3-ubyte{ext}"), gz ? Gzip(img) : img);
        System.IO.File.WriteAllBytes(System.IO.Path.Combine(folder, $"{prefix}-labels-idx1-ubyte{ext}"), gz ? Gzip(lab) : lab);
    }
}

public static class BrokenImages
{
    /// <summary>A PNG whose header (IHDR) declares width×height 8-bit grey pixels, followed by (at most) one
    /// row of pixel data and IEND: what a decoder sees first when a file lies about its size. Chunk CRCs are correct, so the
    /// header passes libpng's checks (CRC-32 of the PNG specification, §5.5, polynomial 0xEDB88320).</summary>
    public static byte[] PngDeclaring(int width, int height)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;                                        // bit depth; colour type 0 (grey), no interlace
        Chunk(ms, "IHDR", ihdr);
        var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true)) z.Write(new byte[1 + Math.Min(width, 64)]);
        Chunk(ms, "IDAT", idat.ToArray());                  // the first row only: the rest is missing
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        byte[] body = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        s.Write(body);
        uint crc = 0xFFFFFFFF;
        foreach (byte b in body)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        var c = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(c, ~crc);
        s.Write(c);
    }
}
