// Helpers every Gen test project shares (linked into each one by its .csproj): process set-up, a
// temporary folder that removes itself, and writers for the IDX format (MNIST's files) so synthetic
// datasets go through the same readers as real ones.
using System.IO.Compression;

namespace Gen.Testing;

public static class TestProcess
{
    /// <summary>glibc malloc tuning as the CLI uses it, no network, and optionally one intra-op thread
    /// (tests share 2 cores; one thread keeps timing-sensitive tests predictable).</summary>
    public static void Init(bool oneThread = false)
    {
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
