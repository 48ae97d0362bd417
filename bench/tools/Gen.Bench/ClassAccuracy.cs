// gen-bench class-acc --model CKPT --images DIR: how often a class-conditional generator's samples are
// of the class they were sampled for. DIR holds `gen sample CKPT --out DIR` images named by seed (sampled
// without --class, so seed s asked for the model's class of s: s mod classes); the bundled Fashion-MNIST
// classifier judges each image. Prints JSON: overall and per-class accuracy and the confusion matrix
// (rows: asked class, columns: judged class). Used by bench/diffusion/cond.sh.
using System.Globalization;
using System.Text.Json;
using Gen.Metrics.Fmnist;
using Gen.Pipeline;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;

namespace Gen.Bench;

public static class ClassAccuracy
{
    public static void Run(Args o, MethodRegistry registry)
    {
        string dir = o.Str("images", "");
        using var model = registry.Open<IImageSampler>(o.Str("model", ""), "sample images");
        if (model is not IClassConditionalSampler { ClassNames.Count: >= 2 } cond)
            throw new GenInputException($"'{o.Str("model", "")}' is not a class-conditional generator");
        // The folder reader decodes and checks the images (in ordinal file order); the labels are the asked classes.
        ImageSet read = ImageFolderReader.Read(dir, Split.Test, "samples");
        var files = Directory.EnumerateFiles(dir).Where(ImageCodec.IsImageFile).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        long[] seeds = files.Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        var samples = new ImageSet("samples", read.Pixels, seeds.Select(cond.ClassOfSeed).ToArray(), read.Channels, read.Height, read.Width, cond.ClassNames, dir);
        using var judge = FmnistExtractor.BundledClassifier();
        ClassifierReport report = ClassifierEval.Evaluate(judge, samples);   // confusion rows: asked class, columns: judged class
        int k = cond.ClassNames.Count;
        double[] per = report.PerClassAccuracy();
        var perClass = Enumerable.Range(0, k).ToDictionary(a => cond.ClassNames[a], a => per[a]);
        var matrix = Enumerable.Range(0, k).Select(a => Enumerable.Range(0, k).Select(j => report.Confusion[a, j]).ToArray()).ToArray();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = ((IModel)model).Description, images = dir, n = files.Length, judge = "bundled Fashion-MNIST classifier",
            accuracy = report.Accuracy, per_class = perClass, confusion = matrix,
        }));
    }
}
