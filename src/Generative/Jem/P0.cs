// The seed distribution p0 of contrastive samples and generation (docs/methods/jem-at.md §4: Fashion-
// MNIST has no out-of-distribution pool like CIFAR's TinyImages, so p0 is made from the data): half
// of the seeds are uniform noise on a (H/4)×(W/4) grid, bilinearly upsampled; the other half are
// training images whose 4×4 grid of patches is shuffled (local texture kept, global shape destroyed).
using Gen.Pipeline.Data;
using static TorchSharp.torch;

namespace Gen.Generative.Jem;

public static class P0
{
    public const int Grid = 4;

    /// <summary>Upsampled low-resolution noise, n×C×H×W in [0,1].</summary>
    public static Tensor Noise(long n, long c, long h, long w, Generator? g)
    {
        using var scope = NewDisposeScope();
        Tensor low = rand([n, c, h / Grid, w / Grid], generator: g);
        return nn.functional.interpolate(low, [h, w], mode: InterpolationMode.Bilinear, align_corners: false)
                 .clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Each image's 4×4 patches permuted by <paramref name="perms"/> (n×16 int64).</summary>
    public static Tensor ShufflePatches(Tensor images, Tensor perms)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        long ph = h / Grid, pw = w / Grid;
        Tensor patches = images.reshape(n, c, Grid, ph, Grid, pw).permute(0, 2, 4, 1, 3, 5).reshape(n, Grid * Grid, c, ph, pw);
        Tensor idx = perms.reshape(n, Grid * Grid, 1, 1, 1).expand(n, Grid * Grid, c, ph, pw);
        Tensor shuffled = patches.gather(1, idx);
        return shuffled.reshape(n, Grid, Grid, c, ph, pw).permute(0, 3, 1, 4, 2, 5).reshape(n, c, h, w).MoveToOuterDisposeScope();
    }

    /// <summary>A batch of p0 seeds, one per image of <paramref name="pool"/> (whose patches the
    /// shuffled half reuses), all draws from <paramref name="g"/>.</summary>
    public static Tensor Batch(Tensor pool, Generator g)
    {
        using var scope = NewDisposeScope();
        long n = pool.shape[0];
        Tensor useNoise = rand([n], generator: g).lt(0.5).reshape(-1, 1, 1, 1);
        Tensor noise = Noise(n, pool.shape[1], pool.shape[2], pool.shape[3], g);
        Tensor perms = rand([n, Grid * Grid], generator: g).argsort(1);
        return where(useNoise, noise, ShufflePatches(pool, perms)).MoveToOuterDisposeScope();
    }

    /// <summary>One p0 image (1×C×H×W) from its own generator: the draws are always the same four, in
    /// order (coin, noise, training index, permutation), so a seed fixes its image. Without a training
    /// set the seed is noise.</summary>
    public static Tensor One(Generator g, ImageSet? train, int c, int h, int w)
    {
        using var scope = NewDisposeScope();
        bool noise = rand([1], ScalarType.Float64, generator: g).item<double>() < 0.5;
        Tensor low = Noise(1, c, h, w, g);
        long index = randint(0, Math.Max(train?.Count ?? 1, 1), [1], ScalarType.Int64, generator: g).item<long>();
        Tensor perm = rand([1, Grid * Grid], generator: g).argsort(1);
        if (noise || train is null) return low.MoveToOuterDisposeScope();
        return ShufflePatches(Batches.Float(train, [(int)index]), perm).MoveToOuterDisposeScope();
    }
}
