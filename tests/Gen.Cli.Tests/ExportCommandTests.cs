// gen export and ONNX models as inputs (docs/deploy.md): the model's structure (opset, dynamic batch,
// Gen's metadata with the checkpoint's hash), gen classify on the exported file giving the same labels
// as on the checkpoint, and the bad-input cases as one-line errors with exit code 2.
using System.Security.Cryptography;
using System.Text.Json;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Onnx.Proto;

namespace Gen.Cli.Tests;

public sealed class ExportCommandTests
{
    [Fact]
    public void Export_ModelStructure_Metadata_ClassifySameAsCheckpoint()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 256, test: 64);
        var train = Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("run"), "--steps", "20" }, .. ClassifierCommandTests.Tiny]);
        Assert.True(train.ExitCode == 0, train.Err);
        var r = Cli.Run("export", tmp.File("run"), "--out", tmp.File("m.onnx"), "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.True(doc.RootElement.GetProperty("parity").GetProperty("ok").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("parity").GetProperty("max_relative_error").GetDouble() <= 1e-5);

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(tmp.File("m.onnx")));
        Assert.Equal("gen", model.ProducerName);
        Assert.Contains(model.OpsetImport, o => o.Domain == "" && o.Version == 17);
        Assert.Equal("batch", model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal([1L, 12, 12], model.Graph.Input[0].Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("classifier", meta["gen.kind"]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tmp.File("run/last.safetensors")))), meta["gen.checkpoint_sha256"]);
        // Every node is an operator that runs on every execution provider (no fused or contrib ops).
        Assert.All(model.Graph.Node, n => Assert.Contains(n.OpType, new[] { "Conv", "Relu", "Add", "Mul", "Sub", "Div", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm", "Identity" }));

        var a = Cli.Run("classify", tmp.File("run"), data, "--json");
        var b = Cli.Run("classify", tmp.File("m.onnx"), data, "--json");
        Assert.True(b.ExitCode == 0, b.Err);
        int[] La(string json) => JsonDocument.Parse(json).RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("label").GetInt32()).ToArray();
        Assert.Equal(La(a.Out), La(b.Out));
        var eval = Cli.Run("eval", "classifier", tmp.File("m.onnx"), "--data", data, "--json");
        Assert.True(eval.ExitCode == 0, eval.Err);
    }

    [Fact]
    public void Devices_ListsCpuAvailable_AndSaysWhatCudaAndDirectMlNeed()
    {
        var r = Cli.Run("devices", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.StartsWith("1.", doc.RootElement.GetProperty("onnxruntime").GetString());
        var providers = doc.RootElement.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p);
        Assert.True(providers["CPUExecutionProvider"].GetProperty("available").GetBoolean());
        // This build is the CPU package: CUDA and DirectML are listed as missing, each with what it needs.
        foreach (string missing in new[] { "CUDAExecutionProvider", "DmlExecutionProvider" })
        {
            Assert.False(providers[missing].GetProperty("available").GetBoolean());
            Assert.Contains("docs/deploy.md", providers[missing].GetProperty("need").GetString());
        }
        // TorchSharp's side: the ATen kernel set this process runs (the test host applies Gen's default).
        if (Gen.Pipeline.CpuKernels.Applies)
        {
            string? user = Environment.GetEnvironmentVariable(Gen.Pipeline.CpuKernels.Variable);
            Assert.Equal(user?.ToUpperInvariant() ?? "AVX2", doc.RootElement.GetProperty("torch_cpu_kernels").GetString());
            Assert.Contains(user is null ? "Gen's default" : Gen.Pipeline.CpuKernels.Variable, doc.RootElement.GetProperty("torch_cpu_kernels_source").GetString());
        }
    }

    [Fact]
    public void BadInput_OneLine_ExitTwo()
    {
        using var tmp = new TempDir();
        SafeTensors.Write(tmp.File("lzn.safetensors"), [], Checkpoint.Metadata("lzn", "{}", 1));
        Refused(Cli.Run("export", tmp.File("lzn.safetensors"), "--out", tmp.File("x.onnx")), "'lzn'");
        Assert.False(File.Exists(tmp.File("x.onnx")));
        File.WriteAllText(tmp.File("junk.onnx"), "not a model");
        Refused(Cli.Run("classify", tmp.File("junk.onnx"), "fashion-mnist:test"), "not an ONNX model");
        // A valid ONNX model without Gen's metadata.
        var g = new Gen.Pipeline.Onnx.OnnxGraph();
        string x = g.Input("images", 1, 4, 4);
        g.Output(g.Relu(x, "r"), 1, 4, 4);
        File.WriteAllBytes(tmp.File("foreign.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(g.Model(new Dictionary<string, string>())));
        Refused(Cli.Run("classify", tmp.File("foreign.onnx"), "fashion-mnist:test"), "metadata");
        Refused(Cli.Run("classify", tmp.File("missing.onnx"), "fashion-mnist:test"), "does not exist");
        Refused(Cli.Run("sample", tmp.File("foreign.onnx"), "--n", "2"), "metadata");
    }

    /// <summary>The bundled diffusion checkpoint exported and sampled through ONNX Runtime gives TorchSharp's images.</summary>
    [Fact]
    public void Denoiser_ExportThenSampleTheOnnxFile_SameImagesAsTorchSharp()
    {
        using var tmp = new TempDir();
        var r = Cli.Run("export", Gen.Pipeline.Stages.SampleStage.Bundled(), "--out", tmp.File("edm.onnx"), "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        using (var doc = JsonDocument.Parse(r.Out))
        {
            var parity = doc.RootElement.GetProperty("parity");
            Assert.True(parity.GetProperty("ok").GetBoolean());
            Assert.True(parity.GetProperty("max_abs_error").GetDouble() <= 1e-4);
            Assert.Equal("denoiser", doc.RootElement.GetProperty("role").GetString());
        }
        var meta = ModelProto.Parser.ParseFrom(File.ReadAllBytes(tmp.File("edm.onnx"))).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Contains("\"sigma_data\":0.5", meta["gen.config"]);

        var onnx = Cli.Run("sample", tmp.File("edm.onnx"), "--n", "6", "--steps", "6", "--npz", tmp.File("onnx.npz"), "--json");
        Assert.True(onnx.ExitCode == 0, onnx.Err);
        Assert.Equal("onnx cpu", JsonDocument.Parse(onnx.Out).RootElement.GetProperty("engine").GetString());
        var torch = Cli.Run("sample", "--engine", "torch", "--n", "6", "--steps", "6", "--npz", tmp.File("torch.npz"), "--json");
        Assert.True(torch.ExitCode == 0, torch.Err);
        Assert.Equal("torch", JsonDocument.Parse(torch.Out).RootElement.GetProperty("engine").GetString());
        static int[] Pixels(string npz) => Gen.Metrics.Stats.Npz.Read(npz)["arr_0"].Data.Select(v => (int)v).ToArray();
        int[] a = Pixels(tmp.File("onnx.npz")), b = Pixels(tmp.File("torch.npz"));
        Assert.Equal(6 * 28 * 28, a.Length);
        Assert.Equal(a.Length, b.Length);
        int off = a.Zip(b).Count(p => p.First != p.Second);
        Assert.True(a.Zip(b).All(p => Math.Abs(p.First - p.Second) <= 1), "pixels differ by more than one level");
        Assert.True(off <= a.Length / 100, $"{off} of {a.Length} pixels differ");
    }

    [Fact]
    public void EngineAndDevice_BadInput_OneLine_ExitTwo()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, Cli.Run("export", Gen.Pipeline.Stages.SampleStage.Bundled(), "--out", tmp.File("edm.onnx")).ExitCode);
        Refused(Cli.Run("sample", tmp.File("edm.onnx"), "--engine", "torch", "--n", "2"), "drop --engine torch");
        Refused(Cli.Run("sample", tmp.File("edm.onnx"), "--bf16", "--n", "2"), "float32");
        Refused(Cli.Run("sample", "--engine", "gpu", "--n", "2"), "unknown --engine");
        Refused(Cli.Run("sample", "--device", "dml", "--n", "2"), "only on Windows");
        Refused(Cli.Run("sample", "--device", "cuda", "--n", "2"), "-p:GenOnnxRuntime=cuda");
        Refused(Cli.Run("sample", "--engine", "torch", "--device", "cuda", "--n", "2"), "--engine onnx");
        Refused(Cli.Run("classify", tmp.File("edm.onnx"), "fashion-mnist:test", "--n", "2"), "cannot classify images");
        Assert.False(File.Exists(tmp.File("x.png")));
    }

    private static void Refused(CliResult r, string needle)
    {
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(needle, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}
