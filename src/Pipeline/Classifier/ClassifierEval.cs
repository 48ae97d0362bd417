// Evaluation of any IClassifier on a labelled set: accuracy, per-class confusion matrix, predictions
// and confidences, in eval mode under no_grad with one dispose scope per batch. The one accuracy loop
// of Gen (training monitors and `gen eval classifier` both use it).
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

/// <summary>Energy is E(x) = −logsumexp of the logits (the classifier read as an energy model, Grathwohl et al. 2020).</summary>
public sealed record ClassifierReport(double Accuracy, int Count, int[,] Confusion, int[] Predictions, float[] Confidence, float[] Energy)
{
    /// <summary>Recall per true class (row-normalised diagonal).</summary>
    public double[] PerClassAccuracy()
    {
        int k = Confusion.GetLength(0);
        var r = new double[k];
        for (int i = 0; i < k; i++)
        {
            int row = 0;
            for (int j = 0; j < k; j++) row += Confusion[i, j];
            r[i] = row == 0 ? double.NaN : (double)Confusion[i, i] / row;
        }
        return r;
    }
}

public static class ClassifierEval
{
    public static ClassifierReport Evaluate(IClassifier model, ImageSet data, int batchSize = 500, CancellationToken cancel = default)
    {
        CheckCompatible(model, data);
        // A batch-relative classifier answers per chunk of its own batch size: whole chunks per call
        // keep the chunks the same whatever batchSize the caller picked.
        if (model is IBatchRelativeClassifier r) batchSize = r.ClassifyBatch * Math.Max(1, batchSize / r.ClassifyBatch);
        int k = model.Classes;
        var confusion = new int[k, k];
        var predictions = new int[data.Count];
        var confidence = new float[data.Count];
        var energy = new float[data.Count];
        int correct = 0, labelled = 0;
        using var _ = no_grad();
        foreach (int[] idx in Batches.Sequential(data.Count, batchSize))
        {
            cancel.ThrowIfCancellationRequested();
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            Tensor logits = model.Logits(Batches.Float(data, idx));
            Tensor probs = nn.functional.softmax(logits, 1);
            float[] e = Energy(logits).data<float>().ToArray();
            var (conf, pred) = probs.max(1);
            long[] p = pred.data<long>().ToArray();
            float[] c = conf.data<float>().ToArray();
            for (int i = 0; i < idx.Length; i++)
            {
                int n = idx[i];
                predictions[n] = (int)p[i];
                confidence[n] = c[i];
                energy[n] = e[i];
                int truth = data.Labels[n];
                if (truth < 0 || truth >= k) continue;
                labelled++;
                confusion[truth, p[i]]++;
                if (truth == p[i]) correct++;
            }
        }
        double acc = labelled == 0 ? double.NaN : (double)correct / labelled;
        return new ClassifierReport(acc, labelled, confusion, predictions, confidence, energy);
    }

    /// <summary>E(x) = −logsumexp_y f(x)[y] of logits B×K (max-shifted inside logsumexp, so large logits do not overflow).</summary>
    public static Tensor Energy(Tensor logits) => logits.logsumexp(1).neg();

    /// <summary>The test split of the data a classifier was trained on (Fashion-MNIST when unknown).</summary>
    public static string DefaultTestData(IClassifier model) =>
        DatasetCatalog.WithSplit(model.TrainingData.Length > 0 ? model.TrainingData : "fashion-mnist", Split.Test);

    public static void CheckCompatible(ClassifierConfig config, ImageSet data) =>
        CheckCompatible(config.ResNet.InChannels, config.ImageSize, config.ImageSize, config.Dataset, data);

    public static void CheckCompatible(IClassifier model, ImageSet data) =>
        CheckCompatible(model.Channels, model.Height, model.Width, model.TrainingData, data);

    public static void CheckCompatible(int channels, int height, int width, string trainedOn, ImageSet data)
    {
        if (data.Channels != channels)
            throw new GenInputException($"'{data.Name}' has {data.Channels}-channel images but the classifier was trained on {channels}-channel images; evaluate it on data like its training set ({trainedOn})");
        if (data.Height != height || data.Width != width)
            throw new GenInputException($"'{data.Name}' has {data.Width}x{data.Height} images but the classifier was trained on {width}x{height}; evaluate it on data like its training set ({trainedOn})");
    }
}
