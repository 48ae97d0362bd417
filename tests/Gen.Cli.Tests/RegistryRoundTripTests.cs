// Every registered method round-trips: train 3 steps on a tiny synthetic set through its train stage,
// open the checkpoint through the registry, and use each capability the method declares. The cases
// come from the registry itself, so a method added to the composition root is tested here without a
// new test; only its tiny-model options (to keep the case fast) are listed below.
using System.Text.Json.Nodes;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using static TorchSharp.torch;

namespace Gen.Cli.Tests;

public sealed class RegistryRoundTripTests
{
    private static readonly MethodRegistry Registry = GenCli.Registry();

    public static TheoryData<string> MethodNames()
    {
        var data = new TheoryData<string>();
        foreach (var m in Registry.Methods) data.Add(m.Name);
        return data;
    }

    // Small models for a 3-step run; a method not listed trains with its defaults.
    private static JsonObject TinyOptions(string method) => method switch
    {
        "classifier" => new JsonObject { ["width"] = 4, ["blocks"] = new JsonArray(1, 1, 1) },
        "diffusion" => new JsonObject { ["width"] = 16, ["blocks"] = 1, ["channel_mult"] = new JsonArray(1, 2), ["grid_n"] = 4, ["sample_every"] = 0 },
        _ when Registry.Method(method).Family == "pretrain" => new JsonObject { ["knn_every"] = 0, ["knn_bank"] = 64 },
        _ => new JsonObject(),
    };

    // Training data for a 3-step run: the toy set, or for the detector the toy images in the CIFAKE
    // layout (class 0 as REAL, the other classes as FAKE).
    private static string DataFor(string method, TempDir tmp)
    {
        string toy = ToyData.Write(tmp.File("toy"), train: 96, test: 32);
        if (method != "detector") return toy;
        foreach (var split in new[] { Gen.Pipeline.Data.Split.Train, Gen.Pipeline.Data.Split.Test })
        {
            var set = Gen.Pipeline.Data.DatasetCatalog.Load(toy, split);
            for (int i = 0; i < set.Count; i++)
            {
                string dir = tmp.File(Path.Combine("cifake", Gen.Pipeline.Data.DatasetCatalog.SplitName(split), set.Labels[i] == 0 ? "REAL" : "FAKE"));
                Directory.CreateDirectory(dir);
                Gen.Pipeline.Imaging.ImageCodec.WritePng(Path.Combine(dir, $"{i:D4}.png"), set.Image(i), set.Channels, set.Height, set.Width);
            }
        }
        return tmp.File("cifake");
    }

    [Theory]
    [MemberData(nameof(MethodNames))]
    public void TrainThreeSteps_Load_EveryCapabilityWorks(string name)
    {
        using var tmp = new TempDir();
        string data = DataFor(name, tmp);
        IMethod method = Registry.Method(name);
        var stage = (TrainStage)Registry.Stage("train-" + name)!;
        JsonObject given = TinyOptions(name);
        given["data"] = data;
        given["steps"] = 3;
        given["batch"] = 16;
        given["threads"] = 2;
        TrainRequest request = stage.Bind(given, $"method '{name}'");
        string run = tmp.File("run");
        var result = stage.Train(request, run, resume: false);
        Assert.False(result.Interrupted);
        Assert.Equal(3, result.Step);

        using (IModel model = Registry.Open(run))
        {
            Assert.Contains(model.Kind, method.CheckpointKinds);
            Assert.Equal(3, model.Step);
            foreach (Type capability in method.Capabilities)
                Assert.True(capability.IsInstanceOfType(model), $"{name} declares {capability.Name} but its model does not implement it");
        }
        Assert.NotEmpty(method.Capabilities);
        if (method.Capabilities.Contains(typeof(IImageSampler))) CheckSampler(method, run);
        if (method.Capabilities.Contains(typeof(IClassifier))) CheckClassifier(run);
        if (method.Capabilities.Contains(typeof(IConvClassifier))) CheckGradCam(run);
        if (method.Capabilities.Contains(typeof(IEncoder))) CheckEncoder(run);
        if (method.Capabilities.Contains(typeof(Gen.Pipeline.Onnx.IOnnxExportable))) CheckExport(run, tmp.File("model.onnx"));
    }

    /// <summary>The ONNX export passes its parity check, and the file opens as the same capability: the same
    /// logits for a classifier, the same features at every layer for an encoder, the same images for a sampler.</summary>
    private static void CheckExport(string run, string onnxPath)
    {
        var exportable = Registry.Open<Gen.Pipeline.Onnx.IOnnxExportable>(run, "be exported");
        using var model = (IModel)exportable;
        var report = Gen.Pipeline.Onnx.OnnxModels.Export(exportable, model, Gen.Pipeline.Checkpoints.Checkpoint.ResolvePath(run), onnxPath);
        Assert.True(report.ParityOk, $"ONNX parity {report.MaxAbsError:G3} abs, {report.MaxRelativeError:G3} relative ({report.Tolerance})");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (exportable is IClassifier torch)
        {
            var onnx = Registry.Open<IClassifier>(onnxPath, "classify images");
            try
            {
                Assert.Equal(torch.ClassNames, onnx.ClassNames);
                Assert.Equal((torch.Channels, torch.Height, torch.Width, torch.Classes), (onnx.Channels, onnx.Height, onnx.Width, onnx.Classes));
                Tensor x = rand([3, torch.Channels, torch.Height, torch.Width], generator: new Generator(5));
                Assert.True(onnx.Logits(x).allclose(torch.Logits(x), rtol: 1e-5, atol: 1e-5));
            }
            finally { (onnx as IDisposable)?.Dispose(); }
        }
        if (exportable is IEncoder encoder)
        {
            var onnx = Registry.Open<IEncoder>(onnxPath, "give image features");
            try
            {
                Assert.Equal(encoder.Layers, onnx.Layers);
                Tensor x = rand([3, encoder.Channels, encoder.Height, encoder.Width], generator: new Generator(6));
                foreach (string layer in encoder.Layers)
                    Assert.True(onnx.Features(x, layer).allclose(encoder.Features(x, layer), rtol: 1e-4, atol: 1e-5), layer);
            }
            finally { (onnx as IDisposable)?.Dispose(); }
        }
        if (exportable is IImageSampler sampler && exportable.OnnxRole == Gen.Generative.Diffusion.DenoiserOnnx.Role)
        {
            using var onnx = Registry.Open<IImageSampler>(onnxPath, "sample images");
            byte[] a = sampler.Sample([3, 4]), b = onnx.Sample([3, 4]);
            Assert.Equal(a.Length, b.Length);
            Assert.True(a.Zip(b).All(p => Math.Abs(p.First - p.Second) <= 1), "ONNX and TorchSharp samples differ by more than one level");
        }
    }

    /// <summary>Images of the right shape, and image i depends on its seed alone (the IImageSampler contract).</summary>
    private static void CheckSampler(IMethod method, string run)
    {
        var settings = new JsonObject();
        if (method.SampleSettingsType is { } t && ParamSchema.Of(t).Specs.Any(s => s.FileKey == "steps")) settings["steps"] = 2;
        using var sampler = Registry.Open<IImageSampler>(run, "sample images", settings);
        int per = sampler.Channels * sampler.Height * sampler.Width;
        Assert.True(per > 0);
        byte[] pair = sampler.Sample([5, 6]);
        byte[] single = sampler.Sample([6]);
        Assert.Equal(2 * per, pair.Length);
        Assert.Equal(single, pair[per..]);
        Assert.NotEqual(pair[..per], pair[per..]);
    }

    /// <summary>Logits of the right shape, finite, one row per image whatever the batch (eval mode); a
    /// batch-relative classifier's rows depend only on their own chunk of ClassifyBatch images.</summary>
    private static void CheckClassifier(string run)
    {
        var classifier = Registry.Open<IClassifier>(run, "classify images");
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Assert.Equal(classifier.Classes, classifier.ClassNames.Count);
            Tensor x = rand([4, classifier.Channels, classifier.Height, classifier.Width], generator: new Generator(1));
            Tensor logits = classifier.Logits(x);
            Assert.Equal(new long[] { 4, classifier.Classes }, logits.shape);
            Assert.True(logits.isfinite().all().item<bool>());
            if (classifier is IBatchRelativeClassifier relative)
            {
                relative.ClassifyBatch = 2;
                Tensor chunked = classifier.Logits(x);
                Assert.True(classifier.Logits(x.narrow(0, 2, 2)).allclose(chunked.narrow(0, 2, 2), rtol: 1e-4, atol: 1e-5), "a chunk's logits depend on another chunk");
                Assert.True(classifier.Logits(x).allclose(chunked), "a batch-relative classifier is not deterministic for a fixed order");
                return;
            }
            Tensor first = classifier.Logits(x.narrow(0, 0, 1));
            Assert.True(first.allclose(logits.narrow(0, 0, 1), rtol: 1e-4, atol: 1e-5), "a classifier's logits depend on the rest of the batch (BatchNorm in train mode?)");
        }
        finally { (classifier as IDisposable)?.Dispose(); }
    }

    /// <summary>Activations and class scores compose to the classifier's decision, and Grad-CAM gives finite maps in [0, 1].</summary>
    private static void CheckGradCam(string run)
    {
        var model = Registry.Open<IConvClassifier>(run, "be explained");
        try
        {
            using var scope = NewDisposeScope();
            Tensor x = rand([4, model.Channels, model.Height, model.Width], generator: new Generator(3));
            using (no_grad())
            {
                Tensor a = model.CamActivations(x);
                Assert.Equal(4, a.dim());
                Assert.True(model.CamScores(a).argmax(1).eq(model.Logits(x).argmax(1)).all().item<bool>(), "CamScores(CamActivations(x)) disagrees with the logits' decision");
            }
            var maps = Gen.Pipeline.Classifier.GradCam.Explain(model, x, "pred");
            Assert.All(maps, m => Assert.All(m.Upsampled, v => Assert.InRange(v, 0f, 1f)));
            Assert.All(maps, m => Assert.Equal(model.Height * model.Width, m.Upsampled.Length));
        }
        finally { (model as IDisposable)?.Dispose(); }
    }

    /// <summary>Every declared layer gives finite B×d features that do not depend on the rest of the batch.</summary>
    private static void CheckEncoder(string run)
    {
        var encoder = Registry.Open<IEncoder>(run, "give image features");
        try
        {
            Assert.Contains(encoder.DefaultLayer, encoder.Layers);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor x = rand([4, encoder.Channels, encoder.Height, encoder.Width], generator: new Generator(2));
            foreach (string layer in encoder.Layers)
            {
                Tensor f = encoder.Features(x, layer);
                Assert.Equal(2, f.dim());
                Assert.Equal(4, f.shape[0]);
                Assert.True(f.shape[1] > 0);
                Assert.True(f.isfinite().all().item<bool>(), $"layer {layer} has non-finite features");
                Tensor first = encoder.Features(x.narrow(0, 0, 1), layer);
                Assert.True(first.allclose(f.narrow(0, 0, 1), rtol: 1e-4, atol: 1e-5), $"layer {layer} depends on the rest of the batch (BatchNorm in train mode?)");
            }
        }
        finally { (encoder as IDisposable)?.Dispose(); }
    }
}
