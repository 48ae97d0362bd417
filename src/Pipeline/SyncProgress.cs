// IProgress<T> that reports on the calling thread, at once. System.Progress<T> posts each report to the
// thread pool, so reports arrive late and out of order; every Gen progress consumer (bars, cancellation
// at a given step in tests) needs them in order.
namespace Gen.Pipeline;

public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
