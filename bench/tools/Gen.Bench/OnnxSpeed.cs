// gen-bench onnx-speed [--rounds 3] [--threads 2]: TorchSharp against ONNX Runtime (CPU) on the same
// networks in one process, the two engines interleaved round by round (docs/deploy.md §5):
//   - EDM sampling of the bundled checkpoint (18 Heun steps), batch 64 and batch 256: images/s of the
//     sampler (the C# loop is the same; only the denoiser call differs);
//   - classifier inference of the bundled JEM-AT model on 256 Fashion-MNIST-sized images: images/s;
//   - open + first 16 images: the latency a user sampling a small grid feels (open the checkpoint, build
//     the graph and session for ONNX, sample 16 images).
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
        int rounds = o.Int("rounds", 3), threads = o.Int("threads", 2);
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
            foreach (int batch in new[] { 64, 256 })
                foreach (string engine in round % 2 == 1 ? engines : engines.Reverse())
                {
                    using var sampler = (DiffusionSamplerBase)Open<IImageSampler>(engine, edm, "sample");
                    var seeds = Enumerable.Range(0, batch).Select(i => (long)i).ToList();
                    var (images, stats) = DiffusionSampler.Sample(sampler.Denoiser, seeds, new SampleOptions { Batch = batch });
                    images.Dispose();
                    Line(new { what = "edm-sampling", round, engine, batch, images_per_s = stats.ImagesPerSecond, seconds = stats.Seconds, model = sampler.Description });
                }

            foreach (string engine in round % 2 == 1 ? engines : engines.Reverse())
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

            foreach (string engine in round % 2 == 1 ? engines : engines.Reverse())
            {
                var clock = Stopwatch.StartNew();
                var sampler = Open<IImageSampler>(engine, edm, "sample");
                using var model = (IModel)sampler;
                double opened = clock.Elapsed.TotalSeconds;
                sampler.Sample(Enumerable.Range(0, 16).Select(i => (long)i).ToList());
                Line(new { what = "open-and-16", round, engine, open_seconds = opened, seconds = clock.Elapsed.TotalSeconds });
            }
        }
    }
}
