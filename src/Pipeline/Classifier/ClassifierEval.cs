// Test-set evaluation of a classifier: accuracy, per-class confusion matrix and predictions, in
// eval mode under no_grad with one dispose scope per batch. Also loads a classifier checkpoint.
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Models;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

public sealed record ClassifierReport(double Accuracy, int Count, int[,] Confusion, int[] Predictions, float[] Confidence)
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
    public static ClassifierReport Evaluate(ResNet model, ClassifierConfig config, ImageSet data, int batchSize = 500)
    {
        CheckCompatible(config, data);
        model.eval();
        int k = config.ResNet.Classes;
        var confusion = new int[k, k];
        var predictions = new int[data.Count];
        var confidence = new float[data.Count];
        int correct = 0, labelled = 0;
        using var _ = no_grad();
        foreach (int[] idx in Batches.Sequential(data.Count, batchSize))
        {
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            Tensor x = Augment.Normalize(Batches.Float(data, idx), config.Mean, config.Std);
            Tensor probs = nn.functional.softmax(model.call(x), 1);
            var (conf, pred) = probs.max(1);
            long[] p = pred.data<long>().ToArray();
            float[] c = conf.data<float>().ToArray();
            for (int i = 0; i < idx.Length; i++)
            {
                int n = idx[i];
                predictions[n] = (int)p[i];
                confidence[n] = c[i];
                int truth = data.Labels[n];
                if (truth < 0 || truth >= k) continue;
                labelled++;
                confusion[truth, p[i]]++;
                if (truth == p[i]) correct++;
            }
        }
        double acc = labelled == 0 ? double.NaN : (double)correct / labelled;
        return new ClassifierReport(acc, labelled, confusion, predictions, confidence);
    }

    public static void CheckCompatible(ClassifierConfig config, ImageSet data)
    {
        if (data.Channels != config.ResNet.InChannels)
            throw new GenInputException($"'{data.Name}' has {data.Channels}-channel images but the classifier was trained on {config.ResNet.InChannels}-channel images; evaluate it on data like its training set ({config.Dataset})");
        if (data.Height != config.ImageSize || data.Width != config.ImageSize)
            throw new GenInputException($"'{data.Name}' has {data.Width}x{data.Height} images but the classifier was trained on {config.ImageSize}x{config.ImageSize}; evaluate it on data like its training set ({config.Dataset})");
    }

    /// <summary>Rebuilds a classifier from its checkpoint (kind and every shape checked).</summary>
    public static (ResNet Model, ClassifierConfig Config, CheckpointInfo Info) Load(string path)
    {
        var (file, info) = Checkpoint.Open(path, ClassifierMethod.KindName);
        ClassifierConfig config = Json.Deserialize<ClassifierConfig>(info.ConfigJson, $"the config in '{file.Path}'");
        config.Validate();
        var model = new ResNet(config.ResNet);
        Checkpoint.LoadInto(model, file);
        model.eval();
        return (model, config, info);
    }
}
