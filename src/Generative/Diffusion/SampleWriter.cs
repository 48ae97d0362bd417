// Writing a float sample tensor (N×C×H×W in [−1, 1]) as a grid PNG through the foundation's writers
// (Imaging/SampleFiles: grid, per-seed PNGs, .npz), for training-time sample grids.
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
        SampleFiles.WriteGrid(path, u8, (int)s[0], (int)s[1], (int)s[2], (int)s[3], scale);
    }
}
