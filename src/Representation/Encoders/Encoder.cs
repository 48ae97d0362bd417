// The encoder seam of representation learning: a backbone mapping images to a pooled feature vector
// (what the heads, the kNN monitor and the probes read), plus named intermediate layers for probes
// (RotNet's "block2", Gidaris et al. 2018 Table 1). Implementations: ResNetEncoder, Nin4Encoder.
using static TorchSharp.torch;

namespace Gen.Representation.Encoders;

public abstract class Encoder : nn.Module<Tensor, Tensor>
{
    public const string Pool = "pool";

    protected Encoder(string name) : base(name) { }

    /// <summary>Width of the pooled feature (B × FeatureDim from forward).</summary>
    public abstract int FeatureDim { get; }

    /// <summary>Layer names a probe may read: "pool" and "block1".."blockN".</summary>
    public IReadOnlyList<string> LayerNames => [Pool, .. Enumerable.Range(1, BlockCount).Select(i => $"block{i}")];

    protected abstract int BlockCount { get; }

    /// <summary>Output of block <paramref name="index"/> (1-based), B × C × h × w.</summary>
    protected abstract Tensor Block(Tensor x, int index);

    /// <summary>The graph of every block's output, block 1 to block N, from a normalised input (docs/deploy.md §8).</summary>
    public abstract IReadOnlyList<string> WriteBlocksOnnx(Gen.Pipeline.Onnx.OnnxGraph g, string x);

    /// <summary>Features of a named layer, flattened to B × d ("pool" = global average pool of the last block).</summary>
    public Tensor Layer(Tensor x, string layer)
    {
        if (layer == Pool) return forward(x);
        if (!LayerNames.Contains(layer))
            throw new Gen.Pipeline.GenInputException($"--layer '{layer}' is not a layer of this encoder; use one of {string.Join(", ", LayerNames)}");
        using var scope = NewDisposeScope();
        return Block(x, int.Parse(layer[5..], System.Globalization.CultureInfo.InvariantCulture)).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>Feature width of a named layer for C×H×W inputs (runs one dummy image).</summary>
    public long LayerDim(string layer, int channels, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool wasTraining = training;
        eval();
        long d = Layer(zeros(1, channels, height, width), layer).shape[1];
        train(wasTraining);
        return d;
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return nn.functional.adaptive_avg_pool2d(Block(x, BlockCount), 1).flatten(1).MoveToOuterDisposeScope();
    }
}
