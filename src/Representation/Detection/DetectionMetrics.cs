// Detection metrics with FAKE as the positive class (docs/methods/detection.md §1): the confusion
// counts at p(fake) ≥ 0.5, accuracy, precision, recall, F1, and ROC-AUC as the Mann–Whitney statistic
// (the probability that a random FAKE scores above a random REAL, ties counting one half).
using Gen.Pipeline;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Representation.Detection;

public sealed record DetectionReport(int TruePositive, int FalsePositive, int FalseNegative, int TrueNegative, double RocAuc)
{
    public int Count => TruePositive + FalsePositive + FalseNegative + TrueNegative;
    public double Accuracy => Ratio(TruePositive + TrueNegative, Count);
    public double Precision => Ratio(TruePositive, TruePositive + FalsePositive);
    public double Recall => Ratio(TruePositive, TruePositive + FalseNegative);
    public double F1 => Ratio(2 * TruePositive, 2 * TruePositive + FalsePositive + FalseNegative);

    /// <summary>Accuracy on REAL images alone (specificity) and on FAKE images alone (recall).</summary>
    public double RealAccuracy => Ratio(TrueNegative, TrueNegative + FalsePositive);
    public double FakeAccuracy => Recall;

    private static double Ratio(int a, int b) => b == 0 ? double.NaN : (double)a / b;
}

public static class DetectionMetrics
{
    /// <summary>The report of scores p(fake) against truth (true = FAKE), thresholded at 0.5.</summary>
    public static DetectionReport Report(IReadOnlyList<bool> isFake, IReadOnlyList<double> pFake)
    {
        if (isFake.Count != pFake.Count) throw new ArgumentException("one score per label");
        int tp = 0, fp = 0, fn = 0, tn = 0;
        for (int i = 0; i < isFake.Count; i++)
        {
            bool said = pFake[i] >= 0.5;
            if (isFake[i]) { if (said) tp++; else fn++; }
            else { if (said) fp++; else tn++; }
        }
        return new DetectionReport(tp, fp, fn, tn, RocAuc(isFake, pFake));
    }

    /// <summary>ROC-AUC = (R₊ − n₊(n₊+1)/2)/(n₊n₋) with R₊ the sum of the positives' ranks (average ranks for ties); NaN without both classes.</summary>
    public static double RocAuc(IReadOnlyList<bool> isPositive, IReadOnlyList<double> score)
    {
        int n = score.Count;
        int[] order = Enumerable.Range(0, n).OrderBy(i => score[i]).ToArray();
        double rankSum = 0;
        long pos = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && score[order[j + 1]] == score[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;                 // average 1-based rank of the tie group
            for (int k = i; k <= j; k++) if (isPositive[order[k]]) { rankSum += rank; pos++; }
            i = j + 1;
        }
        long neg = n - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>p(fake) of every image of a detection set (labels REAL = 0, FAKE = 1) for any classifier
    /// with a FAKE class (the detector, or its ONNX export), in eval mode under no_grad.</summary>
    public static double[] Scores(IClassifier model, ImageSet data, int batchSize = 500, CancellationToken cancel = default)
    {
        int fake = -1;
        for (int i = 0; i < model.ClassNames.Count; i++)
            if (model.ClassNames[i].Equals(DetectionData.Fake, StringComparison.OrdinalIgnoreCase)) fake = i;
        if (fake < 0)
            throw new GenInputException($"the model's classes are [{string.Join(", ", model.ClassNames)}], without FAKE; pass a detector checkpoint (gen train detector)");
        Gen.Pipeline.Classifier.ClassifierEval.CheckCompatible(model, data);
        var scores = new double[data.Count];
        using var _ = no_grad();
        foreach (int[] idx in Batches.Sequential(data.Count, batchSize))
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            Tensor p = nn.functional.softmax(model.Logits(Batches.Float(data, idx)), 1).select(1, fake).to_type(ScalarType.Float64);
            double[] v = p.data<double>().ToArray();
            for (int i = 0; i < idx.Length; i++) scores[idx[i]] = v[i];
        }
        return scores;
    }

    /// <summary>For a set written by `gen detect build-dataset`: the accuracy on the test images of one
    /// label (REAL or FAKE) per source class, from the manifest. REAL images have the class of their real
    /// image (which real classes a detector mistakes for fakes); FAKE images have one only when the builder
    /// matched classes (a class-conditional generator), so the FAKE breakdown says which generated classes
    /// pass for real. Empty for other folders or fakes without classes. Images come in file-name order, as
    /// the manifest lists them.</summary>
    public static IReadOnlyList<(string Class, int Count, double Accuracy)> PerClass(string spec, ImageSet data, IReadOnlyList<double> pFake, int label)
    {
        var r = DatasetRef.Parse(DetectionData.WithoutPrefix(spec));
        if (r.Path is null) return [];
        string split = DatasetCatalog.SplitName(r.Split ?? Split.Test);
        string manifest = Path.Combine(r.Path, DatasetBuilder.ManifestFile);
        if (!File.Exists(manifest)) return [];
        string prefix = $"{split}/{(label == DetectionData.FakeLabel ? DetectionData.Fake : DetectionData.Real)}/";
        string?[] classes;
        try
        {
            var files = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))?["files"]?.AsArray();
            if (files is null) return [];
            classes = files.Select(f => (Path: f?["path"]?.GetValue<string>() ?? "", Class: f?["class"]?.GetValue<string>()))
                           .Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal))
                           .OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => f.Class).ToArray();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { return []; }
        int[] images = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == label).ToArray();
        if (classes.Length != images.Length || classes.Any(c => c is null)) return [];
        bool fake = label == DetectionData.FakeLabel;
        return images.Select((img, k) => (Class: classes[k]!, Correct: pFake[img] >= 0.5 == fake))
                     .GroupBy(x => x.Class).OrderBy(g => g.Key, StringComparer.Ordinal)
                     .Select(g => (g.Key, g.Count(), (double)g.Count(x => x.Correct) / g.Count())).ToList();
    }

    /// <summary>The real dataset a set written by `gen detect build-dataset` drew its REAL test images from
    /// (the manifest's real.test, e.g. "fashion-mnist:test"), or null for other folders.</summary>
    public static string? RealSource(string spec)
    {
        var r = DatasetRef.Parse(DetectionData.WithoutPrefix(spec));
        string? manifest = r.Path is null ? null : Path.Combine(r.Path, DatasetBuilder.ManifestFile);
        if (manifest is null || !File.Exists(manifest)) return null;
        try { return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))?["real"]?["test"]?.GetValue<string>(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { return null; }
    }

    /// <summary>The detector's accuracy on the FAKE images grouped by the class a judge (the dataset's
    /// reference classifier) sees in each: for fakes that carry no class of their own. Empty when the
    /// judge takes images of another shape.</summary>
    public static IReadOnlyList<(string Class, int Count, double Accuracy)> FakePerJudgedClass(IClassifier judge, ImageSet data, IReadOnlyList<double> pFake, CancellationToken cancel = default)
    {
        if (judge.Channels != data.Channels || judge.Height != data.Height || judge.Width != data.Width) return [];
        int[] fakes = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == DetectionData.FakeLabel).ToArray();
        if (fakes.Length == 0) return [];
        ImageSet fakeSet = data.Select(fakes);
        int[] judged = ClassifierEval.Evaluate(judge, fakeSet, cancel: cancel).Predictions;
        return fakes.Select((img, k) => (Class: judge.ClassNames[judged[k]], Correct: pFake[img] >= 0.5))
                    .GroupBy(x => x.Class).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => (g.Key, g.Count(), (double)g.Count(x => x.Correct) / g.Count())).ToList();
    }

    public static DetectionReport Evaluate(IClassifier model, ImageSet data, CancellationToken cancel = default)
    {
        double[] s = Scores(model, data, cancel: cancel);
        return Report(data.Labels.Select(l => l == DetectionData.FakeLabel).ToArray(), s);
    }
}
