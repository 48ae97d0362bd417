// Exporting an opened checkpoint to an ONNX file, and opening an ONNX file Gen wrote as a model
// (docs/deploy.md). The export runs a parity check: ONNX Runtime (CPU) against TorchSharp on 64
// seeded inputs in [0,1]. An exported classifier opens as an IClassifier backed by an ONNX Runtime
// session, so `gen classify` and `gen eval classifier` take model.onnx without TorchSharp weights.
using System.Text.Json;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DenseTensorF = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = TorchSharp.torch.Tensor;
using static TorchSharp.torch;

namespace Gen.Pipeline.Onnx;

public sealed record OnnxExportReport(string Path, long Bytes, int Nodes, int ParityInputs, double MaxAbsError, double MaxRelativeError, string Role);

public static class OnnxModels
{
    public const string ClassifierRole = "classifier";
    public const string InputName = "images";
    public const string OutputName = "logits";

    public static bool IsOnnxPath(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>images [0,1] (B×C×H×W) → (x − mean)/std → <paramref name="network"/> → logits (B×K).</summary>
    public static void WriteClassifier(OnnxGraph g, IClassifier model, IReadOnlyList<double> mean, IReadOnlyList<double> std, IOnnxModule network)
    {
        string x = g.Input(InputName, model.Channels, model.Height, model.Width);
        string y = network.WriteOnnx(g, g.Normalize(x, mean, std), "");
        g.Output(g.Node("Identity", [y], OutputName), model.Classes);
    }

    /// <summary>Writes <paramref name="model"/> (opened from <paramref name="checkpoint"/>) to <paramref name="outPath"/>
    /// atomically, then compares ONNX Runtime's output with TorchSharp's on 64 seeded inputs.</summary>
    public static OnnxExportReport Export(IOnnxExportable model, IModel opened, string checkpoint, string outPath, int parityInputs = 64)
    {
        var g = new OnnxGraph();
        model.WriteOnnx(g);
        var meta = new Dictionary<string, string>
        {
            ["gen.role"] = model.OnnxRole,
            ["gen.kind"] = opened.Kind,
            ["gen.step"] = opened.Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["gen.model"] = opened.Description,
            ["gen.checkpoint"] = Path.GetFileName(checkpoint),
            ["gen.checkpoint_sha256"] = Data.Downloader.Sha256File(checkpoint),
            ["gen.version"] = GenPaths.Version,
        };
        if (model is IClassifier c)
        {
            meta["gen.class_names"] = JsonSerializer.Serialize(c.ClassNames);
            meta["gen.training_data"] = c.TrainingData;
        }
        byte[] bytes = g.Model(meta).ToByteArray();
        AtomicFile.WriteAllBytes(outPath, bytes);

        using var scope = NewDisposeScope();
        using var gen = new Generator(0);
        Tensor x = rand([parityInputs, model.Channels, model.Height, model.Width], generator: gen);
        Tensor reference;
        using (no_grad()) reference = model.Reference(x).to_type(ScalarType.Float64);
        using var session = new InferenceSession(outPath);
        Tensor onnx = Run(session, x).to_type(ScalarType.Float64);
        double maxAbs = onnx.sub(reference).abs().max().item<double>();
        double scale = Math.Max(reference.abs().max().item<double>(), 1e-12);
        return new OnnxExportReport(outPath, bytes.Length, g.Graph.Node.Count, parityInputs, maxAbs, maxAbs / scale, model.OnnxRole);
    }

    /// <summary>One forward pass of a session whose single input takes B×C×H×W float32.</summary>
    public static Tensor Run(InferenceSession session, Tensor input)
    {
        using var c = input.detach().to_type(ScalarType.Float32).cpu().contiguous();
        float[] data = c.data<float>().ToArray();
        int[] dims = c.shape.Select(d => (int)d).ToArray();
        string name = session.InputMetadata.Keys.First();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, new DenseTensorF(data, dims))]);
        var output = results.First().AsTensor<float>();
        return tensor(output.ToArray(), output.Dimensions.ToArray().Select(d => (long)d).ToArray());
    }

    /// <summary>Opens an ONNX file Gen exported (one-line errors for anything else).</summary>
    public static IModel Open(string path, int threads = 0)
    {
        if (!File.Exists(path)) throw new GenInputException($"ONNX model '{path}' does not exist; check the path (gen export writes one)");
        InferenceSession session;
        try
        {
            var options = new SessionOptions();
            if (threads > 0) options.IntraOpNumThreads = threads;
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new GenInputException($"'{path}' is not an ONNX model ONNX Runtime can load ({e.Message.Split('\n')[0]}); pass a file written by gen export");
        }
        var meta = session.ModelMetadata.CustomMetadataMap;
        string role = meta.GetValueOrDefault("gen.role") ?? "";
        if (role != ClassifierRole)
        {
            session.Dispose();
            throw new GenInputException($"'{path}' is an ONNX model without Gen's classifier metadata (gen.role = '{role}'); only models written by gen export open here");
        }
        return new OnnxClassifier(session, path, meta);
    }
}

/// <summary>An exported classifier run by ONNX Runtime (CPU execution provider).</summary>
public sealed class OnnxClassifier : IModel, IClassifier
{
    private readonly InferenceSession _session;

    internal OnnxClassifier(InferenceSession session, string path, IReadOnlyDictionary<string, string> meta)
    {
        _session = session;
        Path = path;
        var input = session.InputMetadata.Values.First();
        var output = session.OutputMetadata.Values.First();
        if (input.Dimensions.Length != 4 || output.Dimensions.Length != 2)
            throw new GenInputException($"'{path}' takes {input.Dimensions.Length}-d input and gives {output.Dimensions.Length}-d output; a classifier maps B×C×H×W images to B×K logits");
        (Channels, Height, Width, Classes) = (input.Dimensions[1], input.Dimensions[2], input.Dimensions[3], output.Dimensions[1]);
        ClassNames = meta.TryGetValue("gen.class_names", out string? names) ? JsonSerializer.Deserialize<string[]>(names) ?? [] : [];
        TrainingData = meta.GetValueOrDefault("gen.training_data") ?? "";
        Kind = meta.GetValueOrDefault("gen.kind") ?? "onnx";
        Step = long.TryParse(meta.GetValueOrDefault("gen.step"), out long s) ? s : 0;
        Description = $"{Kind} step {Step} (onnx)";
    }

    public string Path { get; }
    public string Kind { get; }
    public long Step { get; }
    public string Description { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public string TrainingData { get; }

    public Tensor Logits(Tensor images01) => OnnxModels.Run(_session, images01);

    public void Dispose() => _session.Dispose();
}

/// <summary>One execution provider: offered by the ONNX Runtime build Gen loaded, or not, and what a user needs for it.</summary>
public sealed record OnnxProvider(string Name, string Device, bool Available, string Need);

public static class OnnxDevices
{
    /// <summary>The ONNX Runtime version and the providers Gen knows (CPU, CUDA, DirectML), with availability in this build.</summary>
    public static (string Version, IReadOnlyList<OnnxProvider> Providers) List()
    {
        var env = OrtEnv.Instance();
        var offered = env.GetAvailableProviders().ToHashSet(StringComparer.Ordinal);
        OnnxProvider P(string name, string device, string need) => new(name, device, offered.Contains(name), offered.Contains(name) ? "" : need);
        var known = new List<OnnxProvider>
        {
            P("CPUExecutionProvider", "cpu", "part of every ONNX Runtime build"),
            P("CUDAExecutionProvider", "cuda", "an NVIDIA GPU and ONNX Runtime's CUDA build (Microsoft.ML.OnnxRuntime.Gpu.Linux); Gen has no CUDA build option yet (docs/deploy.md §4)"),
            P("DmlExecutionProvider", "dml", "Windows and ONNX Runtime's DirectML build (Microsoft.ML.OnnxRuntime.DirectML); Gen has no DirectML build option yet (docs/deploy.md §4)"),
        };
        foreach (string other in offered.Where(o => known.All(k => k.Name != o)).Order(StringComparer.Ordinal))
            known.Add(new OnnxProvider(other, "", true, ""));
        return (env.GetVersionString(), known);
    }
}
