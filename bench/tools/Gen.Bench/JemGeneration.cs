// gen-bench jem-gen: the generation checks of bench/RESULTS.md "JEM-AT" (B2) for a jem checkpoint.
// Samples N images for seeds 0..N−1 (class seed mod K), then reports the model's own accuracy on
// them, a judge classifier's agreement with the intended class, and the energy gap
// mean s(test) − mean s(p0) over N test images and N p0 seeds (s = logsumexp of the logits).
using System.Globalization;
using System.Text.Json;
using Gen.Generative.Jem;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Bench;

public static class JemGeneration
{
    public static void Run(Args o, MethodRegistry registry)
    {
        int n = o.Int("n", 100);
        var settings = new System.Text.Json.Nodes.JsonObject();
        if (o.Str("steps", "") is { Length: > 0 } st) settings["steps"] = int.Parse(st, CultureInfo.InvariantCulture);
        using var model = (JemModel)registry.Open(o.Str("model", ""), settings);
        var judge = o.Str("judge", "") is { Length: > 0 } j ? registry.Open<IClassifier>(j, "judge samples") : null;
        var seeds = Enumerable.Range(0, n).Select(i => (long)i).ToList();
        byte[] images = ((IImageSampler)model).Sample(seeds);
        long[] intended = seeds.Select(s => s % model.Classes).ToArray();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor x = tensor(images, [n, model.Channels, model.Height, model.Width], ScalarType.Byte).to_type(ScalarType.Float32).div(255);
        Tensor y = tensor(intended, ScalarType.Int64);
        double self = model.Logits(x).argmax(1).eq(y).to_type(ScalarType.Float32).mean().item<float>();
        double? agree = judge is null ? null : judge.Logits(x).argmax(1).eq(y).to_type(ScalarType.Float32).mean().item<float>();
        (judge as IDisposable)?.Dispose();

        ImageSet test = DatasetCatalog.Load(DatasetCatalog.WithSplit(model.TrainingData, Split.Test), Split.Test);
        ImageSet train = DatasetCatalog.Load(model.TrainingData, Split.Train);
        Tensor real = Batches.Float(test, Enumerable.Range(0, Math.Min(n, test.Count)).ToArray());
        Tensor p0 = cat(seeds.Select(s => { using var g = new Generator((ulong)s); return P0.One(g, train, model.Channels, model.Height, model.Width); }).ToList(), 0);
        Tensor samplesS = JemEnergy.Score(model.Logits(x));
        double sTest = JemEnergy.Score(model.Logits(real)).mean().item<float>();
        double sP0 = JemEnergy.Score(model.Logits(p0)).mean().item<float>();
        var result = new
        {
            model = model.Description,
            n,
            steps = model.SampleSteps,
            step_size = model.SampleStepSize,
            self_accuracy = self,
            judge_agreement = agree,
            s_test = sTest,
            s_p0 = sP0,
            s_samples = samplesS.mean().item<float>(),
            energy_gap = sTest - sP0,
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
    }
}
