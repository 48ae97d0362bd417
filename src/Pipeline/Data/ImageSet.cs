// An image dataset held in memory as uint8 N×C×H×W (row-major, like a torch uint8 tensor) plus labels.
// Readers produce it; Batches turns index lists into tensors. No libtorch here, so `gen data info`
// runs without loading the native library.
namespace Gen.Pipeline.Data;

public sealed class ImageSet
{
    public ImageSet(string name, byte[] pixels, int[] labels, int channels, int height, int width,
                    IReadOnlyList<string> classNames, string source)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException("image dimensions must be positive");
        long per = (long)channels * height * width;
        if (pixels.LongLength != per * labels.Length)
            throw new ArgumentException($"pixel buffer has {pixels.LongLength} bytes, expected {per * labels.Length}");
        Name = name;
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
        Source = source;
    }

    /// <summary>Short name with split, e.g. "fashion-mnist:train".</summary>
    public string Name { get; }

    /// <summary>Where the data came from (file or folder), for messages and manifests.</summary>
    public string Source { get; }

    public byte[] Pixels { get; }

    /// <summary>Class index per image; -1 where unlabelled.</summary>
    public int[] Labels { get; }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> ClassNames { get; }

    public int Count => Labels.Length;
    public int ImageBytes => Channels * Height * Width;
    public int ClassCount => ClassNames.Count;

    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageBytes, ImageBytes);

    /// <summary>A new set holding the given images, in the given order.</summary>
    public ImageSet Select(IReadOnlyList<int> indices, string? name = null)
    {
        int n = ImageBytes;
        var pixels = new byte[(long)indices.Count * n];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int j = indices[i];
            if ((uint)j >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"index {j} outside 0..{Count - 1}");
            Image(j).CopyTo(pixels.AsSpan(i * n, n));
            labels[i] = Labels[j];
        }
        return new ImageSet(name ?? Name, pixels, labels, Channels, Height, Width, ClassNames, Source);
    }

    /// <summary>The first <paramref name="count"/> images (all when count ≥ Count).</summary>
    public ImageSet Take(int count) =>
        count >= Count ? this : Select(Enumerable.Range(0, count).ToArray());

    /// <summary>Images per class, in class order (unlabelled images are not counted).</summary>
    public int[] ClassHistogram()
    {
        var counts = new int[ClassCount];
        foreach (int l in Labels)
            if (l >= 0 && l < counts.Length) counts[l]++;
        return counts;
    }

    /// <summary>Per-channel mean and standard deviation of pixel values scaled to [0,1].</summary>
    public (double[] Mean, double[] Std) ChannelStats()
    {
        var sum = new double[Channels];
        var sumSq = new double[Channels];
        int plane = Height * Width;
        for (int i = 0; i < Count; i++)
        {
            var img = Image(i);
            for (int c = 0; c < Channels; c++)
            {
                long s = 0, s2 = 0;
                foreach (byte v in img.Slice(c * plane, plane)) { s += v; s2 += v * v; }
                sum[c] += s;
                sumSq[c] += s2;
            }
        }
        double n = (double)Count * plane;
        var mean = new double[Channels];
        var std = new double[Channels];
        for (int c = 0; c < Channels; c++)
        {
            mean[c] = sum[c] / n / 255.0;
            double var = sumSq[c] / n / (255.0 * 255.0) - mean[c] * mean[c];
            std[c] = Math.Sqrt(Math.Max(var, 0));
        }
        return (mean, std);
    }
}
