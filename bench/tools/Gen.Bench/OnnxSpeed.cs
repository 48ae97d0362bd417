// gen-bench onnx-speed [--rounds 3] [--threads 2] [--parts sampling,classifier,open,features]: TorchSharp against ONNX Runtime (CPU) on the same
// networks in one process, the two engines interleaved round by round (docs/deploy.md §5):
//   - EDM sampling of the bundled checkpoint (18 Heun steps), batch 64 and batch 256: images/s of the
//     sampler (the C# loop is the same; only the denoiser call differs);
//   - classifier inference of the bundled JEM-AT model on 256 Fashion-MNIST-sized images: images/s;
//   - open + first 16 images: the latency a user sampling a small grid feels (open the checkpoint, build
//     the graph and session for ONNX, sample 16 images);
//   - the bundled Fashion-MNIST extractor on 2,000 test images (batch 250): images/s;
//   - chunks: EDM sampling of 256 images at batch 256, TorchSharp against ONNX Runtime run in passes of
//     32, 64, 128 and 256 rows (OnnxDenoiser.MaxBatch);
//   - the FID Inception (random weights of the same shape and cost as the real ones, which are not served
//     here; `gen-bench inception-weights`) on 200 test images (batch 50, pool3 + IS logits): images/s.
// JSON lines on stdout; bench/onnx/run.sh adds peak RSS from separate processes.
using System.Diagnostics;
using System.Text.Json;
using Gen.Generative.Diffusion;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;
using Gen.Pipeline.Stages;
using static TorchSharp.torch;

namespace Gen.Bench;

public static class OnnxSpeed
{
    public static void Run(Args o, MethodRegistry registry)
    {
        try { RunParts(o, registry); }
        finally
        {
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), $"gen-bench-inception-{Environment.ProcessId}.safetensors")) File.Delete(f);
        }
    }

    private static void RunParts(Args o, MethodRegistry registry)
    {
        int rounds = o.Int("rounds", 3), threads = o.Int("threads", 2);
        var parts = o.Str("parts", "sampling,classifier,open,features,inception").Split(',').ToHashSet();
        string? inceptionWeights = null;
        if (parts.Contains("inception"))
        {
            inceptionWeights = Path.Combine(Path.GetTempPath(), $"gen-bench-inception-{Environment.ProcessId}.safetensors");
            using var net = new Gen.Metrics.Inception.FidInceptionV3();
            using var g = new Generator(0);
            foreach (var (name, p) in net.named_parameters())
                if (p.dim() == 4) Gen.Pipeline.Models.Init.KaimingNormalFanOut(p, g);
            Gen.Pipeline.Checkpoints.Checkpoint.Save(inceptionWeights, net, "inception-random", "{}", 0);
        }
        string edm = SampleStage.Bundled();
        string jem = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(edm)!, "..", "jem", "fmnist-jem-at.safetensors"));
        string[] engines = ["torch", "onnx"];
        T Open<T>(string engine, string path, string need) where T : class
        {
            registry.Inference = new InferenceSettings(engine, "cpu", threads);
            return registry.Open<T>(path, need);
        }
        void Line(object record) => Console.WriteLine(JsonSerializer.Serialize(record));

        for (int round = 1; round <= rounds; round++)
        {
            foreach (int batch in parts.Contains("sampling") ? [64, 256] : Array.Empty<int>())
                foreach (string engine in round % 2 == 1 ? engines : engines.Reverse())
                {
                    using var sampler = (DiffusionSamplerBase)Open<IImageSampler>(engine, edm, "sample");
                    var seeds = Enumerable.Range(0, batch).Select(i => (long)i).ToList();
                    var (images, stats) = DiffusionSampler.Sample(sampler.Denoiser, seeds, new SampleOptions { Batch = batch });
                    images.Dispose();
                    Line(new { what = "edm-sampling", round, engine, batch, images_per_s = stats.ImagesPerSecond, seconds = stats.Seconds, model = sampler.Description });
                }

            if (parts.Contains("chunks"))
            {
                string[] arms = ["torch", "onnx-32", "onnx-64", "onnx-128", "onnx-256"];
                foreach (string arm in round % 2 == 1 ? arms : arms.Reverse())
                {
                    using var sampler = (DiffusionSamplerBase)Open<IImageSampler>(arm == "torch" ? "torch" : "onnx", edm, "sample");
                    IEdmDenoiser d = sampler.Denoiser is OnnxDenoiser od ? new OnnxDenoiser(od.Session, od.Config) { MaxBatch = int.Parse(arm[5..]) } : sampler.Denoiser;
                    var seeds = Enumerable.Range(0, 256).Select(i => (long)i).ToList();
                    var (images, stats) = DiffusionSampler.Sample(d, seeds, new SampleOptions { Batch = 256 });
                    images.Dispose();
                    Line(new { what = "edm-chunks", round, arm, batch = 256, images_per_s = stats.ImagesPerSecond, seconds = stats.Seconds });
                }
            }

            foreach (string engine in !parts.Contains("classifier") ? [] : round % 2 == 1 ? engines : engines.Reverse())
            {
                var classifier = Open<IClassifier>(engine, jem, "classify");
                using var model = (IModel)classifier;
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                Tensor x = rand([256, classifier.Channels, classifier.Height, classifier.Width], generator: new Generator(1));
                classifier.Logits(x.narrow(0, 0, 16));   // warm-up
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < 4; i++) classifier.Logits(x);
                double s = clock.Elapsed.TotalSeconds;
                Line(new { what = "classifier", round, engine, batch = 256, images_per_s = 4 * 256 / s, seconds = s, model = model.Description });
            }

            foreach (string engine in !parts.Contains("open") ? [] : round % 2 == 1 ? engines : engines.Reverse())
            {
                var clock = Stopwatch.StartNew();
                var sampler = Open<IImageSampler>(engine, edm, "sample");
                using var model = (IModel)sampler;
                double opened = clock.Elapsed.TotalSeconds;
                sampler.Sample(Enumerable.Range(0, 16).Select(i => (long)i).ToList());
                Line(new { what = "open-and-16", round, engine, open_seconds = opened, seconds = clock.Elapsed.TotalSeconds });
            }

            foreach (string engine in !parts.Contains("features") ? [] : round % 2 == 1 ? engines : engines.Reverse())
            {
                registry.Inference = new InferenceSettings(engine, "cpu", threads);
                using var extractor = Gen.Metrics.Extractors.Open(new Gen.Metrics.ExtractorOptions { Kind = Gen.Metrics.Features.ExtractorKind.Fmnist, Threads = threads },
                                                                  Gen.Metrics.Features.ExtractorKind.Fmnist, null, Gen.Metrics.Features.Preprocessing.TorchFidelity);
                var source = new Gen.Metrics.Sources.ImageSetSource(Gen.Pipeline.Data.DatasetCatalog.Load("fashion-mnist:test", Gen.Pipeline.Data.Split.Test).Take(2000));
                Gen.Metrics.FeatureRunner.Collect(extractor, new Gen.Metrics.Sources.ImageSetSource(Gen.Pipeline.Data.DatasetCatalog.Load("fashion-mnist:test", Gen.Pipeline.Data.Split.Test).Take(250)), 250).Dispose();   // warm-up
                var clock = Stopwatch.StartNew();
                Gen.Metrics.FeatureRunner.Collect(extractor, source, 250).Dispose();
                double s = clock.Elapsed.TotalSeconds;
                Line(new { what = "fmnist-features", round, engine, batch = 250, images_per_s = 2000 / s, seconds = s, extractor = extractor.GetType().Name });
            }

            foreach (string engine in inceptionWeights is null ? [] : round % 2 == 1 ? engines : engines.Reverse())
            {
                registry.Inference = new InferenceSettings(engine, "cpu", threads);
                var options = new Gen.Metrics.ExtractorOptions
                {
                    Kind = Gen.Metrics.Features.ExtractorKind.Inception, Weights = inceptionWeights, Threads = threads,
                    WeightsSha256 = Gen.Pipeline.Data.Downloader.Sha256File(inceptionWeights!),
                };
                using var extractor = Gen.Metrics.Extractors.Open(options, Gen.Metrics.Features.ExtractorKind.Inception, Gen.Metrics.Inception.InceptionOutput.Pool2048,
                                                                  Gen.Metrics.Features.Preprocessing.TorchFidelity, [Gen.Metrics.Inception.InceptionOutput.LogitsUnbiased]);
                var test = Gen.Pipeline.Data.DatasetCatalog.Load("fashion-mnist:test", Gen.Pipeline.Data.Split.Test);
                Gen.Metrics.FeatureRunner.Collect(extractor, new Gen.Metrics.Sources.ImageSetSource(test.Take(50)), 50).Dispose();   // warm-up
                var clock = Stopwatch.StartNew();
                Gen.Metrics.FeatureRunner.Collect(extractor, new Gen.Metrics.Sources.ImageSetSource(test.Take(200)), 50).Dispose();
                double s = clock.Elapsed.TotalSeconds;
                Line(new { what = "inception-features", round, engine, batch = 50, images_per_s = 200 / s, seconds = s, extractor = extractor.GetType().Name });
            }
        }
    }
}
