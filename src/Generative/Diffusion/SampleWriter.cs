// Writing sampled images: a grid PNG (foundation Grid, torchvision make_grid layout), one PNG per
// image named by its seed (`000042.png`, as edm/generate.py), and an .npz holding a uint8 array
// `arr_0` of shape N×H×W×C (the layout OpenAI guided-diffusion's evaluator reads) plus `seeds`
// (int64). The .npz is an uncompressed ZIP of NPY v1.0 files (numpy's format spec,
// numpy/lib/format.py), written atomically.
using System.IO.Compression;
using System.Text;
using Gen.Pipeline;
using Gen.Pipeline.Imaging;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public static class SampleWriter
{
    /// <summary>Float images N×C×H×W in [−1, 1] → grid PNG (8 per row, 2 px black padding, ×2 scale).</summary>
    public static void WriteGrid(string path, Tensor images, int scale = 2)
    {
        byte[] u8 = DiffusionSampler.ToBytes(images);
        var s = images.shape;
        Grid.WritePng(path, u8, (int)s[0], (int)s[1], (int)s[2], (int)s[3], new GridOptions { Scale = scale });
    }

    /// <summary>One PNG per image, named by its seed, into <paramref name="folder"/>.</summary>
    public static void WriteFolder(string folder, Tensor images, IReadOnlyList<long> seeds)
    {
        Directory.CreateDirectory(folder);
        byte[] u8 = DiffusionSampler.ToBytes(images);
        var s = images.shape;
        int c = (int)s[1], h = (int)s[2], w = (int)s[3], per = c * h * w;
        Parallel.For(0, seeds.Count, i =>
            ImageCodec.WritePng(Path.Combine(folder, $"{seeds[i]:D6}.png"), u8.AsSpan(i * per, per).ToArray(), c, h, w));
    }

    /// <summary>.npz with arr_0 (uint8 N×H×W×C) and seeds (int64 N).</summary>
    public static void WriteNpz(string path, Tensor images, IReadOnlyList<long> seeds)
    {
        byte[] pixels;
        long[] shape;
        using (NativeCallGuard.Enter())
        using (var scope = NewDisposeScope())
        {
            Tensor nhwc = images.add(1).div(2).mul(255).round().clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
            pixels = nhwc.bytes.ToArray();
            shape = nhwc.shape;
        }
        var seedBytes = new byte[seeds.Count * 8];
        for (int i = 0; i < seeds.Count; i++) BitConverter.TryWriteBytes(seedBytes.AsSpan(i * 8), seeds[i]);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            AddNpy(zip, "arr_0.npy", "|u1", shape, pixels);
            AddNpy(zip, "seeds.npy", "<i8", [seeds.Count], seedBytes);
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
