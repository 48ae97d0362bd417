// Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al., "THE MNIST DATABASE" page):
// two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then each dimension
// as a big-endian int32, then the data. Files may be gzip-compressed (detected by magic, not name).
using System.Buffers.Binary;
using System.IO.Compression;

namespace Gen.Pipeline.Data;

public sealed record IdxArray(int[] Shape, byte[] Data, string Path);

public static class IdxReader
{
    private const byte TypeUnsignedByte = 0x08;

    public static IdxArray Read(string path)
    {
        if (!File.Exists(path))
            throw new GenInputException($"IDX file '{path}' does not exist; check the path");
        byte[] raw = ReadMaybeGzip(path);
        if (raw.Length < 4 || raw[0] != 0 || raw[1] != 0)
            throw new GenInputException($"'{path}' is not an IDX file (bad magic number {Hex(raw, 4)}); expected 00 00 08 0N, as in the MNIST/Fashion-MNIST files");
        if (raw[2] != TypeUnsignedByte)
            throw new GenInputException($"'{path}' holds IDX type 0x{raw[2]:x2}; Gen reads unsigned-byte IDX files (type 0x08) only");
        int ndim = raw[3];
        if (ndim < 1 || ndim > 4)
            throw new GenInputException($"'{path}' declares {ndim} dimensions; image and label IDX files have 1 to 4");
        int header = 4 + 4 * ndim;
        if (raw.Length < header)
            throw new GenInputException($"IDX file '{path}' is truncated inside its header; download it again");
        var shape = new int[ndim];
        long count = 1;
        for (int d = 0; d < ndim; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * d));
            if (shape[d] <= 0)
                throw new GenInputException($"IDX file '{path}' has a non-positive dimension {shape[d]}; the file is corrupt, download it again");
            count *= shape[d];
        }
        long have = raw.Length - header;
        if (have < count)
            throw new GenInputException($"IDX file '{path}' is truncated: its header promises {count} bytes of data ({string.Join("x", shape)}) but it holds {have}; download it again");
        if (have > count)
            throw new GenInputException($"IDX file '{path}' has {have - count} bytes after the data its header describes ({string.Join("x", shape)}); the file is corrupt, download it again");
        var data = new byte[count];
        Buffer.BlockCopy(raw, header, data, 0, (int)count);
        return new IdxArray(shape, data, path);
    }

    /// <summary>Images (N×H×W, or N×H×W×C) and labels (N) from two IDX files, checked against each other.</summary>
    public static (byte[] Pixels, int[] Labels, int Channels, int Height, int Width) ReadPair(string imagesPath, string labelsPath)
    {
        IdxArray images = Read(imagesPath);
        IdxArray labels = Read(labelsPath);
        if (images.Shape.Length is not (3 or 4))
            throw new GenInputException($"'{imagesPath}' has {images.Shape.Length} dimensions; an IDX image file has 3 (N×H×W)");
        if (labels.Shape.Length != 1)
            throw new GenInputException($"'{labelsPath}' has {labels.Shape.Length} dimensions; an IDX label file has 1");
        if (labels.Shape[0] != images.Shape[0])
            throw new GenInputException($"'{labelsPath}' has {labels.Shape[0]} labels but '{imagesPath}' has {images.Shape[0]} images; the two files must come from the same split");
        int n = images.Shape[0], h = images.Shape[1], w = images.Shape[2];
        int c = images.Shape.Length == 4 ? images.Shape[3] : 1;
        byte[] pixels = images.Data;
        if (c > 1) pixels = HwcToChw(pixels, n, h, w, c);
        var lab = new int[n];
        for (int i = 0; i < n; i++) lab[i] = labels.Data[i];
        return (pixels, lab, c, h, w);
    }

    internal static byte[] ReadMaybeGzip(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        if (file.Length >= 2 && file[0] == 0x1f && file[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                return ms.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new GenInputException($"'{path}' is a damaged or truncated gzip file ({e.Message}); download it again", e);
            }
        }
        return file;
    }

    private static byte[] HwcToChw(byte[] src, int n, int h, int w, int c)
    {
        var dst = new byte[src.Length];
        int plane = h * w;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < plane; p++)
                for (int k = 0; k < c; k++)
                    dst[(i * c + k) * plane + p] = src[(i * plane + p) * c + k];
        return dst;
    }

    private static string Hex(byte[] b, int n) =>
        string.Join(" ", b.Take(n).Select(x => x.ToString("x2")));
}
