// Where the one training loop gets its batches. The loop draws indices (BatchOrder: seed, step) and the
// source turns them into tensors, so a method can train on anything indexable: an ImageSet (images in
// [0,1] and labels), paired batches built from two sets, or a cached feature matrix (the linear probe).
using System.Text.Json.Nodes;
using Gen.Pipeline.Data;
using static TorchSharp.torch;

namespace Gen.Pipeline.Training;

public interface IBatchSource
{
    /// <summary>Number of examples an epoch covers.</summary>
    int Count { get; }

    /// <summary>The examples at <paramref name="indices"/>; tensors belong to the caller's dispose scope.</summary>
    Batch Get(int[] indices);

    /// <summary>What the data is, for config.json.</summary>
    JsonObject Describe();
}

/// <summary>Images of an ImageSet as float [0,1] B×C×H×W with int64 labels.</summary>
public sealed class ImageBatchSource(ImageSet set) : IBatchSource
{
    public ImageSet Set => set;
    public int Count => set.Count;

    public Batch Get(int[] indices) => new(Batches.Float(set, indices), Batches.Labels(set, indices), indices);

    public JsonObject Describe() => new()
    {
        ["name"] = set.Name,
        ["source"] = set.Source,
        ["count"] = set.Count,
        ["shape"] = new JsonArray(set.Channels, set.Height, set.Width),
    };
}

/// <summary>Rows of a feature matrix (N×d float) with int64 labels, e.g. frozen encoder features.</summary>
public sealed class TensorBatchSource(Tensor x, Tensor y, string name) : IBatchSource
{
    public int Count => (int)x.shape[0];

    public Batch Get(int[] indices)
    {
        Tensor idx = tensor(indices.Select(i => (long)i).ToArray(), ScalarType.Int64);
        return new Batch(x.index_select(0, idx), y.index_select(0, idx), indices);
    }

    public JsonObject Describe() => new() { ["name"] = name, ["count"] = Count, ["shape"] = new JsonArray(x.shape[1]) };
}
