// ImageSet → tensors. Images come out as float32 in [0,1] (uint8/255, as torchvision's ToTensor),
// labels as int64.
using static TorchSharp.torch;

namespace Gen.Pipeline.Data;

public static class Batches
{
    /// <summary>uint8 B×C×H×W tensor of the given images.</summary>
    public static Tensor Uint8(ImageSet set, IReadOnlyList<int> indices)
    {
        int per = set.ImageBytes;
        var buf = new byte[(long)per * indices.Count];
        for (int i = 0; i < indices.Count; i++) set.Image(indices[i]).CopyTo(buf.AsSpan(i * per, per));
        return tensor(buf, [indices.Count, set.Channels, set.Height, set.Width], ScalarType.Byte);
    }

    /// <summary>float32 B×C×H×W in [0,1].</summary>
    public static Tensor Float(ImageSet set, IReadOnlyList<int> indices)
    {
        using Tensor u8 = Uint8(set, indices);
        return u8.to_type(ScalarType.Float32).div_(255.0);
    }

    public static Tensor Labels(ImageSet set, IReadOnlyList<int> indices)
    {
        var l = new long[indices.Count];
        for (int i = 0; i < l.Length; i++) l[i] = set.Labels[indices[i]];
        return tensor(l, ScalarType.Int64);
    }

    /// <summary>Consecutive index ranges covering 0..count-1 (the last may be short), for evaluation.</summary>
    public static IEnumerable<int[]> Sequential(int count, int batchSize)
    {
        for (int start = 0; start < count; start += batchSize)
            yield return Enumerable.Range(start, Math.Min(batchSize, count - start)).ToArray();
    }

    /// <summary>Float [0,1] images back to uint8 (round half to even, clamped), as a packed byte buffer.</summary>
    public static byte[] ToBytes(Tensor images01)
    {
        using var scope = NewDisposeScope();
        Tensor u8 = images01.detach().cpu().to_type(ScalarType.Float32).mul(255.0).round().clamp(0, 255).to_type(ScalarType.Byte).contiguous();
        return u8.bytes.ToArray();
    }

    /// <summary>Generated images in chunks: <paramref name="images01"/>(start, n) makes the n images of
    /// items start … start+n−1 as floats in [0,1] (each chunk in its own dispose scope, under the native-call
    /// guard); the result is planar uint8, count × perImage bytes, with progress after each chunk.</summary>
    public static byte[] GenerateInChunks(int count, int chunk, int perImage, Func<int, int, Tensor> images01,
                                          IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        var all = new byte[(long)perImage * count];
        for (int start = 0; start < count; start += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            int n = Math.Min(chunk, count - start);
            ToBytes(images01(start, n)).CopyTo(all, (long)start * perImage);
            progress?.Report(start + n);
        }
        return all;
    }
}
