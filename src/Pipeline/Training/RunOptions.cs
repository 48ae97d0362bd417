// How a training run is executed, as opposed to what it computes (TrainConfig): the intra-op thread
// count and the log and checkpoint cadence change neither the weights nor the loss curve, so they stay
// out of a stage's cache key and may differ between machines and between a run and its resume
// (docs/architecture.md "Stages").
using Gen.Pipeline.Methods;

namespace Gen.Pipeline.Training;

public sealed record RunOptions
{
    [Param("libtorch intra-op threads (0 = libtorch's default)")]
    public int Threads { get; init; }                   // libtorch intra-op threads; 0 = libtorch's choice
    [Param("Steps between checkpoints (0 = only at the end)")]
    public long CheckpointEvery { get; init; } = 1000;  // steps between snapshots; 0 = only at the end
    [Param("Steps between metrics.jsonl lines")]
    public long LogEvery { get; init; } = 50;           // steps between metrics.jsonl lines

    public void Validate()
    {
        if (Threads < 0) throw new GenInputException($"--threads must be zero (auto) or positive, got {Threads}");
        if (CheckpointEvery < 0) throw new GenInputException($"--checkpoint-every must be zero (end only) or positive, got {CheckpointEvery}");
        if (LogEvery <= 0) throw new GenInputException($"--log-every must be positive, got {LogEvery}");
    }
}
