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
    /// label (REAL or FAKE) per source class, from its manifest. REAL images have the class of their real
    /// image (which real classes a detector mistakes for fakes); FAKE images have one only when the builder
    /// matched classes (a class-conditional generator), so the FAKE breakdown says which generated classes
    /// pass for real. Empty without a manifest or for fakes without classes.</summary>
    public static IReadOnlyList<(string Class, int Count, double Accuracy)> PerClass(BuiltSetManifest? manifest, ImageSet data, IReadOnlyList<double> pFake, int label)
    {
        string?[] classes = manifest?.TestClasses(label) ?? [];
        int[] images = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == label).ToArray();
        if (images.Length == 0 || classes.Length != images.Length || classes.Any(c => c is null)) return [];
        bool fake = label == DetectionData.FakeLabel;
        return Grouped(images.Select((img, k) => (classes[k]!, pFake[img] >= 0.5 == fake)));
    }

    /// <summary>The detector's accuracy on the FAKE images grouped by the class a judge (the dataset's
    /// reference classifier) sees in each: for fakes that carry no class of their own. Empty when the
    /// judge takes images of another shape.</summary>
    public static IReadOnlyList<(string Class, int Count, double Accuracy)> FakePerJudgedClass(IClassifier judge, ImageSet data, IReadOnlyList<double> pFake, CancellationToken cancel = default)
    {
        if (judge.Channels != data.Channels || judge.Height != data.Height || judge.Width != data.Width) return [];
        int[] fakes = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == DetectionData.FakeLabel).ToArray();
        if (fakes.Length == 0) return [];
        int[] judged = ClassifierEval.Evaluate(judge, data.Select(fakes), cancel: cancel).Predictions;
        return Grouped(fakes.Select((img, k) => (judge.ClassNames[judged[k]], pFake[img] >= 0.5)));
    }

    /// <summary>Count and accuracy per class, classes in ordinal order.</summary>
    private static List<(string Class, int Count, double Accuracy)> Grouped(IEnumerable<(string Class, bool Correct)> items) =>
        items.GroupBy(x => x.Class).OrderBy(g => g.Key, StringComparer.Ordinal)
             .Select(g => (g.Key, g.Count(), (double)g.Count(x => x.Correct) / g.Count())).ToList();

    public static DetectionReport Evaluate(IClassifier model, ImageSet data, CancellationToken cancel = default)
    {
        double[] s = Scores(model, data, cancel: cancel);
        return Report(data.Labels.Select(l => l == DetectionData.FakeLabel).ToArray(), s);
    }
}

/// <summary>The manifest of a set written by `gen detect build-dataset`, read once, with the split a
/// command evaluates.</summary>
public sealed class BuiltSetManifest
{
    private readonly System.Text.Json.Nodes.JsonNode _root;
    private readonly string _split;

    private BuiltSetManifest(System.Text.Json.Nodes.JsonNode root, string split) => (_root, _split) = (root, split);

    /// <summary>The manifest of a dataset folder (a `cifake:` prefix and a split suffix allowed), or null
    /// when the folder has none or it does not parse.</summary>
    public static BuiltSetManifest? Open(string spec)
    {
        var r = DatasetRef.Parse(DetectionData.WithoutPrefix(spec));
        if (r.Path is null) return null;
        string file = Path.Combine(r.Path, DatasetBuilder.ManifestFile);
        if (!File.Exists(file)) return null;
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file)) is { } root
                ? new BuiltSetManifest(root, DatasetCatalog.SplitName(r.Split ?? Split.Test)) : null;
        }
        catch (System.Text.Json.JsonException) { return null; }
    }

    /// <summary>The real dataset the REAL test images came from (real.test, e.g. "fashion-mnist:test").</summary>
    public string? RealSource
    {
        get
        {
            try { return _root["real"]?["test"]?.GetValue<string>(); }
            catch (InvalidOperationException) { return null; }
        }
    }

    /// <summary>The class of each image of one label in the split, in file-name order (the order the
    /// images are read in); null where an image has none. Empty when the manifest lists no files.</summary>
    public string?[] TestClasses(int label)
    {
        string prefix = $"{_split}/{(label == DetectionData.FakeLabel ? DetectionData.Fake : DetectionData.Real)}/";
        try
        {
            if (_root["files"]?.AsArray() is not { } files) return [];
            return files.Select(f => (Path: f?["path"]?.GetValue<string>() ?? "", Class: f?["class"]?.GetValue<string>()))
                        .Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal))
                        .OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => f.Class).ToArray();
        }
        catch (InvalidOperationException) { return []; }
    }
}
