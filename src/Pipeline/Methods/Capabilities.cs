// What a trained model can do, independent of how it was trained (docs/architecture.md
// "Capabilities"). The registry opens a checkpoint through its method and returns an IModel that
// implements some of these interfaces; each capability verb of the CLI (sample, fid, classify, eval,
// probe) asks for one and works with every kind that has it.
//
// Contracts:
//  * Images enter as float32 B×C×H×W in [0, 1] (uint8/255); each model applies its own normalisation.
//  * Tensors returned belong to the caller's dispose scope; callers run models under no_grad.
//  * An IImageSampler's image i depends on its seed alone (one generator per seed, NVlabs/edm
//    generate.py), whatever the batch size or the call boundaries; images come back as planar uint8
//    (count×C×H×W), as a PNG stores them.
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Gen.Pipeline.Methods;

/// <summary>A model opened from a checkpoint.</summary>
public interface IModel : IDisposable
{
    /// <summary>The checkpoint kind (gen.kind).</summary>
    string Kind { get; }

    /// <summary>The training step the checkpoint was written at.</summary>
    long Step { get; }

    /// <summary>A short description for logs and result records, e.g. "edm step 12000 (EMA)".</summary>
    string Description { get; }
}

public interface IImageSampler : IDisposable
{
    int Channels { get; }
    int Height { get; }
    int Width { get; }

    /// <summary>A short description for logs and metric records.</summary>
    string Description { get; }

    /// <summary>`count` images for seeds firstSeed … firstSeed+count−1, as count×C×H×W uint8.</summary>
    byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null);

    /// <summary>One image per seed, in seed order (any seeds; the default calls SampleUint8 per run of consecutive seeds).</summary>
    byte[] Sample(IReadOnlyList<long> seeds, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        int per = Channels * Height * Width;
        var all = new byte[(long)per * seeds.Count];
        int i = 0;
        while (i < seeds.Count)
        {
            cancel.ThrowIfCancellationRequested();
            int j = i + 1;
            while (j < seeds.Count && seeds[j] == seeds[j - 1] + 1) j++;
            int done = i;
            byte[] part = SampleUint8(j - i, seeds[i], progress is null ? null : new SyncProgress<int>(n => progress.Report(done + n)));
            part.CopyTo(all, (long)i * per);
            i = j;
        }
        return all;
    }

    /// <summary>Facts about the last Sample call for the report (steps, network evaluations, dtype).</summary>
    JsonObject LastRun => new();
}

/// <summary>
/// A sampler whose images have classes. With no class fixed by its sampler options, the image of seed s
/// is of class ClassOfSeed(s); every kind in Gen uses SeedClass (s mod classes), so a run of consecutive
/// seeds is class-balanced. ClassNames is empty for an unconditional model.
/// </summary>
public interface IClassConditionalSampler : IImageSampler
{
    IReadOnlyList<string> ClassNames { get; }

    int ClassOfSeed(long seed);

    /// <summary>The default class of a seed: seed mod classes (non-negative for negative seeds too).</summary>
    static int SeedClass(long seed, int classes) => (int)(((seed % classes) + classes) % classes);
}

public interface IClassifier
{
    int Channels { get; }
    int Height { get; }
    int Width { get; }
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of outputs of Logits.</summary>
    int Classes { get; }

    /// <summary>The dataset the model was trained on ("" when unknown), for default evaluation data.</summary>
    string TrainingData { get; }

    /// <summary>Class logits (B×Classes) of images in [0,1]; the model is in eval mode.</summary>
    Tensor Logits(Tensor images01);
}

public interface IEncoder
{
    int Channels { get; }
    int Height { get; }
    int Width { get; }
    string TrainingData { get; }

    /// <summary>The backbone's name, e.g. "resnet10s".</summary>
    string Architecture { get; }

    /// <summary>Layers Features can read; the first is the default unless DefaultLayer says otherwise.</summary>
    IReadOnlyList<string> Layers { get; }
    string DefaultLayer { get; }

    /// <summary>Frozen features (B×d) of images in [0,1] at a layer; the model is in eval mode.</summary>
    Tensor Features(Tensor images01, string layer);

    /// <summary>Where the features come from (method, seed, step, …) for probe records.</summary>
    IReadOnlyDictionary<string, string> Provenance { get; }
}

/// <summary>A classifier whose network splits at its last convolutional layer, the layer Grad-CAM
/// explains (docs/methods/detection.md "Grad-CAM"): activations A = CamActivations(x) and class scores
/// CamScores(A). Composing the two gives the classifier's decision; CamScores' column c is the score
/// Grad-CAM differentiates for class c (the logit before softmax for a softmax classifier; ±z for a
/// single-logit detector, whose "real" score is −z).</summary>
public interface IConvClassifier : IClassifier
{
    /// <summary>The target layer's name in the network, for reports (e.g. "layer3", "conv2").</summary>
    string CamLayer { get; }

    /// <summary>Target-layer activations (B×K×u×v) of images in [0,1], after the layer's ReLU and before any pooling.</summary>
    Tensor CamActivations(Tensor images01);

    /// <summary>Class scores (B×Classes) computed from the target-layer activations.</summary>
    Tensor CamScores(Tensor activations);
}

/// <summary>A classifier whose answer for an image depends on the other images classified with it (a
/// Latent Zoning Network computes an image's latent over the anchors of its whole batch; docs/methods/lzn.md
/// "Classification"). Logits splits its input into consecutive chunks of ClassifyBatch images, so results
/// are reproducible for a fixed image order; Note says so in a sentence for the output.</summary>
public interface IBatchRelativeClassifier : IClassifier
{

    /// <summary>Images classified together (the zone mass of each is 1/ClassifyBatch).</summary>
    int ClassifyBatch { get; set; }

    /// <summary>The standard deviation of the start noise of each image's latent (0: the deterministic latent).</summary>
    double PriorStd { get; set; }

    /// <summary>One sentence on how the answer depends on the batch, for the command's output.</summary>
    string Note { get; }
}
