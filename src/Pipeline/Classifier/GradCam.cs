// Grad-CAM (Selvaraju et al. 2017, Eq. 1–2; docs/methods/detection.md "Grad-CAM") for any
// IConvClassifier: α_k = mean over positions of ∂y/∂A_k, L = ReLU(Σ_k α_k A_k), then bilinear
// upsampling to the input size and normalisation by the map's maximum.
//
// One backward pass serves the whole batch: A is made a leaf, and since sample i's score depends on
// sample i's activations only (every model runs in eval mode, so BatchNorm mixes nothing), the gradient
// of Σ_i y_i with respect to A holds each sample's own ∂y_i/∂A_i.
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

/// <summary>Per image: the target class, its score y, the class probabilities, the raw map L (u×v), the
/// channel weights α (K) and the map upsampled to the input and divided by its maximum (H×W, in [0,1]).</summary>
public sealed record CamMap(int Target, double Score, float[] Probabilities, double[] Raw, int RawHeight, int RawWidth,
                            double[] Alpha, float[] Upsampled, bool Empty)
{
    /// <summary>The (row, column) of the upsampled map's maximum (the first in row-major order).</summary>
    public (int Row, int Col) Peak(int width)
    {
        int best = 0;
        for (int i = 1; i < Upsampled.Length; i++) if (Upsampled[i] > Upsampled[best]) best = i;
        return (best / width, best % width);
    }
}

public static class GradCam
{
    /// <summary>The raw Grad-CAM pieces for a batch: α (B×K), L (B×u×v) and the scores (B×Classes), in the activations' dtype.</summary>
    public static (Tensor Alpha, Tensor Map, Tensor Scores) Raw(IConvClassifier model, Tensor images01, long[] targets)
    {
        if (targets.Length != images01.shape[0]) throw new ArgumentException("one target per image");
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        Tensor a = model.CamActivations(images01).detach().requires_grad_(true);
        if (a.dim() != 4) throw new GenInputException($"the layer '{model.CamLayer}' gives {a.dim()}-D activations; Grad-CAM needs a convolutional layer (B×K×u×v)");
        Tensor scores = model.CamScores(a);
        Tensor t = tensor(targets, ScalarType.Int64).unsqueeze(1);
        Tensor y = scores.gather(1, t).squeeze(1);
        Tensor g = autograd.grad([y.sum()], [a])[0];
        Tensor alpha = g.mean([2, 3]);                                            // Eq. 1
        Tensor map = nn.functional.relu((alpha.unsqueeze(-1).unsqueeze(-1) * a.detach()).sum(1));   // Eq. 2
        return (alpha.detach().MoveToOuterDisposeScope(), map.detach().MoveToOuterDisposeScope(), scores.detach().MoveToOuterDisposeScope());
    }

    /// <summary>Maps B×u×v bilinearly resized to height×width (align_corners = false) and divided by each
    /// map's maximum; an all-zero map stays zero.</summary>
    public static Tensor Upsample(Tensor maps, int height, int width)
    {
        using var scope = NewDisposeScope();
        Tensor up = nn.functional.interpolate(maps.unsqueeze(1), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
        Tensor max = up.flatten(1).amax([1]).view(-1, 1, 1);
        return (up / max.clamp_min(1e-30)).where(max > 0, zeros_like(up)).MoveToOuterDisposeScope();
    }

    /// <summary>Which class each image is explained for: "pred" (the predicted class), a class name
    /// (case-insensitive, e.g. FAKE or REAL for a detector) or a class index.</summary>
    public static long[] Targets(string target, IClassifier model, Tensor probabilities)
    {
        int n = (int)probabilities.shape[0];
        if (target.Equals("pred", StringComparison.OrdinalIgnoreCase))
            return probabilities.argmax(1).data<long>().ToArray();
        int named = -1;
        for (int i = 0; i < model.ClassNames.Count && named < 0; i++)
            if (model.ClassNames[i].Equals(target, StringComparison.OrdinalIgnoreCase)) named = i;
        if (named < 0 && int.TryParse(target, out int index) && index >= 0 && index < model.Classes) named = index;
        if (named < 0)
            throw new GenInputException($"--target '{target}' is not 'pred', a class name ({string.Join(", ", model.ClassNames)}) or an index below {model.Classes}; pass one of those");
        return Enumerable.Repeat((long)named, n).ToArray();
    }

    /// <summary>Grad-CAM of a batch of images in [0,1] for the chosen targets, as per-image records.</summary>
    public static CamMap[] Explain(IConvClassifier model, Tensor images01, string target)
    {
        using var scope = NewDisposeScope();
        Tensor probs;
        using (no_grad()) probs = nn.functional.softmax(model.Logits(images01), 1).to_type(ScalarType.Float32);
        long[] targets = Targets(target, model, probs);
        var (alpha, map, scores) = Raw(model, images01, targets);
        Tensor up = Upsample(map.to_type(ScalarType.Float32), (int)images01.shape[2], (int)images01.shape[3]);
        int b = (int)images01.shape[0], u = (int)map.shape[1], v = (int)map.shape[2];
        double[] alphaAll = alpha.to_type(ScalarType.Float64).data<double>().ToArray();
        double[] mapAll = map.to_type(ScalarType.Float64).data<double>().ToArray();
        double[] scoreAll = scores.to_type(ScalarType.Float64).data<double>().ToArray();
        float[] probAll = probs.data<float>().ToArray();
        float[] upAll = up.data<float>().ToArray();
        int k = (int)alpha.shape[1], classes = (int)scores.shape[1], hw = (int)(up.shape[1] * up.shape[2]);
        var result = new CamMap[b];
        for (int i = 0; i < b; i++)
        {
            double[] raw = mapAll.AsSpan(i * u * v, u * v).ToArray();
            result[i] = new CamMap((int)targets[i], scoreAll[i * classes + targets[i]], probAll.AsSpan(i * model.Classes, model.Classes).ToArray(),
                raw, u, v, alphaAll.AsSpan(i * k, k).ToArray(), upAll.AsSpan(i * hw, hw).ToArray(), raw.All(x => x <= 0));
        }
        return result;
    }
}
