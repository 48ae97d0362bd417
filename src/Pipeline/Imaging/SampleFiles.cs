// Writing sampled images (planar uint8, N×C×H×W): a grid PNG (torchvision make_grid layout, ×2),
// one PNG per image named by its seed (`000042.png`, as NVlabs/edm generate.py), and an .npz holding
// a uint8 array `arr_0` of shape N×H×W×C (the layout OpenAI guided-diffusion's evaluator reads) plus
// `seeds` (int64). The .npz is an uncompressed ZIP of NPY v1.0 files (numpy's format spec,
// numpy/lib/format.py), written atomically.
using System.IO.Compression;
using System.Text;

namespace Gen.Pipeline.Imaging;

public static class SampleFiles
{
    public static void WriteGrid(string path, byte[] images, int count, int c, int h, int w, int scale = 2, int columns = 8) =>
        Grid.WritePng(path, images, count, c, h, w, new GridOptions { Scale = scale, NRow = columns });

    /// <summary>One PNG per image, named by its seed, into <paramref name="folder"/>.</summary>
    public static void WriteFolder(string folder, byte[] images, IReadOnlyList<long> seeds, int c, int h, int w)
    {
        Directory.CreateDirectory(folder);
        int per = c * h * w;
        Parallel.For(0, seeds.Count, i =>
            ImageCodec.WritePng(Path.Combine(folder, $"{seeds[i]:D6}.png"), images.AsSpan(i * per, per).ToArray(), c, h, w));
    }

    /// <summary>.npz with arr_0 (uint8 N×H×W×C) and seeds (int64 N).</summary>
    public static void WriteNpz(string path, byte[] images, IReadOnlyList<long> seeds, int c, int h, int w)
    {
        int n = seeds.Count;
        var nhwc = new byte[images.Length];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < h * w; p++)
                    nhwc[((long)i * h * w + p) * c + ch] = images[((long)i * c + ch) * h * w + p];
        var seedBytes = new byte[n * 8];
        for (int i = 0; i < n; i++) BitConverter.TryWriteBytes(seedBytes.AsSpan(i * 8), seeds[i]);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            AddNpy(zip, "arr_0.npy", "|u1", [n, h, w, c], nhwc);
            AddNpy(zip, "seeds.npy", "<i8", [n], seedBytes);
        });
    }

    private static void AddNpy(ZipArchive zip, string name, string descr, long[] shape, byte[] data)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var s = entry.Open();
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
        s.Write(data);
    }
}
