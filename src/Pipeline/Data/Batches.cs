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
}
