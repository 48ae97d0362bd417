// gen-bench class-acc --model CKPT --images DIR: how often a class-conditional generator's samples are
// of the class they were sampled for. DIR holds `gen sample CKPT --out DIR` images named by seed (sampled
// without --class, so seed s asked for the model's class of s: s mod classes); the bundled Fashion-MNIST
// classifier judges each image. Prints JSON: overall and per-class accuracy and the confusion matrix
// (rows: asked class, columns: judged class). Used by bench/diffusion/cond.sh.
using System.Globalization;
using System.Text.Json;
using Gen.Metrics.Fmnist;
using Gen.Pipeline;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Bench;

public static class ClassAccuracy
{
    public static void Run(Args o, MethodRegistry registry)
    {
        string dir = o.Str("images", "");
        using var model = registry.Open<IImageSampler>(o.Str("model", ""), "sample images");
        if (model is not IClassConditionalSampler { ClassNames.Count: >= 2 } cond)
            throw new GenInputException($"'{o.Str("model", "")}' is not a class-conditional generator");
        var files = Directory.EnumerateFiles(dir, "*.png").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new GenInputException($"'{dir}' holds no PNG files");
        int k = cond.ClassNames.Count;
        var confusion = new long[k, k];
        using var judge = FmnistExtractor.BundledClassifier();
        using var noGrad = no_grad();
        foreach (var chunk in files.Chunk(250))
        {
            using var scope = NewDisposeScope();
            var images = chunk.Select(ImageCodec.Decode).ToArray();
            var (c, h, w) = (images[0].Channels, images[0].Height, images[0].Width);
            var px = images.SelectMany(d => d.Pixels).ToArray();
            Tensor x = tensor(px, [images.Length, c, h, w]).to(ScalarType.Float32).div(255);
            long[] judged = judge.Logits(x).argmax(1).data<long>().ToArray();
            for (int i = 0; i < chunk.Length; i++)
            {
                long seed = long.Parse(Path.GetFileNameWithoutExtension(chunk[i]), NumberStyles.None, CultureInfo.InvariantCulture);
                confusion[cond.ClassOfSeed(seed), judged[i]]++;
            }
        }
        var perClass = new Dictionary<string, double>();
        long right = 0;
        for (int a = 0; a < k; a++)
        {
            long row = Enumerable.Range(0, k).Sum(j => confusion[a, j]);
            right += confusion[a, a];
            perClass[cond.ClassNames[a]] = row == 0 ? double.NaN : (double)confusion[a, a] / row;
        }
        var matrix = Enumerable.Range(0, k).Select(a => Enumerable.Range(0, k).Select(j => confusion[a, j]).ToArray()).ToArray();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = ((IModel)model).Description, images = dir, n = files.Length, judge = "bundled Fashion-MNIST classifier",
            accuracy = (double)right / files.Length, per_class = perClass, confusion = matrix,
        }));
    }
}
