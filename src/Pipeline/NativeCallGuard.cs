// Guards loops of libtorch calls against a use-after-free in TorchSharp 0.107 (docs/platform.md §6).
//
// TorchSharp turns C# numbers into Scalar objects (implicit conversions) that free their native
// c10::Scalar in a finalizer and are not kept alive across the P/Invoke that reads them (e.g.
// Tensor.add_(Scalar, Scalar) passes scalar.Handle and never touches the object again). If a GC
// runs while that native call is in flight, the Scalar can be finalized and freed mid-call. We hit
// it after ~1,400 training steps: BatchNorm's num_batches_tracked.add_(1) failed with "Expected
// false to be true ... toLong" (a freed Scalar's tag). No GC may start inside a guarded region
// (GC.TryStartNoGCRegion), so every Scalar created in it outlives its native call; the GC that
// precedes the region collects only earlier, finished work. A region that outgrows its budget
// simply ends early (the runtime then collects as usual).
using System.Runtime;

namespace Gen.Pipeline;

public readonly struct NativeCallGuard : IDisposable
{
    // Managed allocation budget of one region: a training step or eval batch allocates far less
    // (tensor wrappers and one uint8 batch buffer), measured well under 8 MB.
    private const long BudgetBytes = 64L << 20;

    private readonly bool _active;

    private NativeCallGuard(bool active) => _active = active;

    public static NativeCallGuard Enter()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return new NativeCallGuard(false); // nested
        try { return new NativeCallGuard(GC.TryStartNoGCRegion(BudgetBytes)); }
        catch (InvalidOperationException) { return new NativeCallGuard(false); }
    }

    public void Dispose()
    {
        if (_active && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            try { GC.EndNoGCRegion(); }
            catch (InvalidOperationException) { /* a GC ended the region already */ }
        }
    }
}
