// One lzn training step of each variant on a tiny labelled set: finite losses, the metrics each logs,
// and gradients that reach every part of the model.
using Gen.Generative.Lzn;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Lzn;

public sealed class LznStepTests
{
    internal static LznConfig Small(string variant = LznConfig.Joint, int classes = 4) => new()
    {
        Variant = variant,
        ImageSize = 16,
        Classes = classes,
        ClassNames = Enumerable.Range(0, classes).Select(i => $"c{i}").ToArray(),
        LatentDim = 8,
        EncoderWidths = [8, 16, 16],
        DecoderWidths = [8, 16, 16],
        HeadHidden = 32,
        CondDim = 32,
        TimeEmbedDim = 16,
    };

    [Theory]
    [InlineData(LznConfig.Joint)]
    [InlineData(LznConfig.Clf)]
    [InlineData(LznConfig.Rf)]
    public void Step_FiniteLoss_GradientsEverywhere(string variant)
    {
        using var scope = NewDisposeScope();
        ImageSet data = TinyData.Squares(16, 16, classes: 4);
        using var init = new Generator(0);
        using var method = new LznMethod(Small(variant), init, 0, 0.2, 0);
        int[] idx = Enumerable.Range(0, 16).ToArray();
        var batch = new Batch(Batches.Float(data, idx), Batches.Labels(data, idx), idx);
        using var g = new Generator(1);
        StepOutput output = method.Step(batch, new StepContext { Step = 0, TotalSteps = 1, Lr = 1e-3, ImagesSeen = 0, Generator = g });
        float loss = output.Loss.item<float>();
        Assert.True(float.IsFinite(loss), $"loss {loss}");
        output.Loss.backward();
        foreach (var (name, p) in method.Network.named_parameters())
        {
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{name} has a non-finite gradient");
        }
        if (variant == LznConfig.Joint)
        {
            Assert.InRange(output.Metrics!["label"].item<float>(), -1f, 0f);
            Assert.True(method.Network.anchors!.grad!.abs().sum().item<float>() > 0);
            Assert.True(method.Network.encoder!.named_parameters().All(p => p.parameter.grad!.abs().sum().item<float>() > 0));
        }
    }
}
