// gen-bench lzn-acc --model M [--n 1000] [--stds 0,1]: an lzn checkpoint's sample accuracy (the bundled
// Fashion-MNIST classifier on n class-balanced samples, class = seed mod 10) and, when it classifies,
// its test accuracy for each start-noise std (docs/methods/lzn.md "Classification"). JSON on stdout.
using System.Globalization;
using System.Text.Json;
using Gen.Generative.Lzn;
using Gen.Metrics.Fmnist;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;

namespace Gen.Bench;

public static class LznAccuracy
{
    public static void Run(Args o, MethodRegistry registry)
    {
        int n = o.Int("n", 1000);
        using var model = (LznModel)registry.Open(o.Str("model", ""));
        double? sampleAcc = null;
        if (model.Config.HasDecoder)
        {
            using var judge = FmnistExtractor.BundledClassifier();
            sampleAcc = LznTraining.SampleAccuracy(model, judge, n);
        }
        var test = new Dictionary<string, double>();
        if (model.Config.HasEncoder)
        {
            ImageSet data = DatasetCatalog.Load(DatasetCatalog.WithSplit(model.TrainingData, Split.Test), Split.Test);
            foreach (string s in (model.Config.HasAnchors ? o.Str("stds", "0,0.5,1") : "0").Split(','))
            {
                model.PriorStd = double.Parse(s, CultureInfo.InvariantCulture);
                test[s] = ClassifierEval.Evaluate(model, data).Accuracy;
            }
        }
        Console.WriteLine(JsonSerializer.Serialize(new { model = model.Description, kind = model.Kind, samples = n, sample_acc = sampleAcc, test_acc_by_prior_std = test, classify_batch = model.ClassifyBatch }));
    }
}
