// Frozen features for probes and the kNN monitor: the encoder in eval mode under no_grad over
// un-augmented, normalised images, in batches (one dispose scope and NativeCallGuard per batch,
// docs/platform.md §6), written into one N × d float32 tensor the caller owns.
using Gen.Pipeline;
using Gen.Pipeline.Data;
using static TorchSharp.torch;

namespace Gen.Representation.Probes;

public static class Features
{
    /// <summary>Features of every image (or the first <paramref name="limit"/>) through <paramref name="featureFn"/>.</summary>
    public static Tensor Extract(ImageSet data, Func<Tensor, Tensor> featureFn, int batchSize = 500, int limit = int.MaxValue,
                                 CancellationToken cancel = default)
    {
        int n = Math.Min(data.Count, limit);
        Tensor? all = null;
        using var noGrad = no_grad();
        try
        {
            foreach (int[] idx in Batches.Sequential(n, batchSize))
            {
                cancel.ThrowIfCancellationRequested();
                using var guard = NativeCallGuard.Enter();
                using var scope = NewDisposeScope();
                Tensor f = featureFn(Batches.Float(data, idx)).to_type(ScalarType.Float32);
                if (all is null)
                {
                    all = empty([n, f.shape[1]], ScalarType.Float32);
                    all.DetachFromDisposeScope();
                }
                all.narrow(0, idx[0], idx.Length).copy_(f);
            }
        }
        catch
        {
            all?.Dispose();
            throw;
        }
        return all ?? empty([0, 0]);
    }

    /// <summary>Labels as an int64 tensor (the first <paramref name="limit"/> images).</summary>
    public static Tensor Labels(ImageSet data, int limit = int.MaxValue) =>
        tensor(data.Labels.Take(Math.Min(data.Count, limit)).Select(l => (long)l).ToArray(), ScalarType.Int64);
}
