// Exporting an opened checkpoint to an ONNX file, and opening an ONNX file Gen wrote as a model
// (docs/deploy.md). The export runs a parity check: ONNX Runtime (CPU) against TorchSharp on 64
// seeded inputs in [0,1]. An exported classifier opens as an IClassifier backed by an ONNX Runtime
// session, so `gen classify` and `gen eval classifier` take model.onnx without TorchSharp weights.
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DenseTensorF = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = TorchSharp.torch.Tensor;
using static TorchSharp.torch;

namespace Gen.Pipeline.Onnx;

public sealed record OnnxExportReport(string Path, long Bytes, int Nodes, int ParityInputs, double MaxAbsError, double MaxRelativeError,
                                      string Role, OnnxTolerance Tolerance)
{
    public bool ParityOk => Tolerance.Accepts(MaxAbsError, MaxRelativeError);
}

/// <summary>An ONNX Runtime session over a model Gen wrote, with the model's metadata and the
/// execution provider it runs on.</summary>
public sealed class OnnxSession(InferenceSession session, string source, string provider) : IDisposable
{
    public InferenceSession Session { get; } = session;

    /// <summary>The .onnx file, or "CKPT (in memory)" for a graph built for --engine onnx.</summary>
    public string Source { get; } = source;

    /// <summary>The execution provider, e.g. CPUExecutionProvider.</summary>
    public string Provider { get; } = provider;

    /// <summary>How models label this engine in their descriptions: "onnx cpu", "onnx cuda", …</summary>
    public string Engine => $"onnx {OnnxDevices.Short(Provider)}";

    public IReadOnlyDictionary<string, string> Metadata => Session.ModelMetadata.CustomMetadataMap;

    public string? Meta(string key) => Metadata.GetValueOrDefault(key);

    /// <summary>One forward pass; inputs by name (converted to float32), the first output back as a tensor.</summary>
    public Tensor Run(IReadOnlyDictionary<string, Tensor> inputs) => OnnxModels.Run(Session, inputs);

    /// <summary>As <see cref="Run(IReadOnlyDictionary{string, Tensor})"/>, in passes of at most <paramref name="maxBatch"/>
    /// rows (every input's first axis is the batch), the outputs concatenated.</summary>
    public Tensor Run(IReadOnlyDictionary<string, Tensor> inputs, int maxBatch)
    {
        long b = inputs.Values.First().shape[0];
        if (b <= maxBatch) return Run(inputs);
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < b; start += maxBatch)
        {
            long n = Math.Min(maxBatch, b - start);
            parts.Add(Run(inputs.ToDictionary(kv => kv.Key, kv => kv.Value.narrow(0, start, n))));
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    public void Dispose() => Session.Dispose();
}

/// <summary>What an exported graph came from, for its metadata: kind, step, description, file name and SHA-256.</summary>
public sealed record OnnxSource(string Kind, long Step, string Description, string FileName, string Sha256)
{
    /// <summary>The source of a model opened from a checkpoint file (its hash read from the file).</summary>
    public static OnnxSource Of(IModel opened, string checkpoint) =>
        new(opened.Kind, opened.Step, opened.Description, Path.GetFileName(checkpoint), Data.Downloader.Sha256File(checkpoint));
}

/// <summary>Turns an ONNX session of one role ("classifier", "denoiser", …) into a model; the sample
/// settings are those of `gen sample` (empty elsewhere).</summary>
public delegate IModel OnnxOpener(OnnxSession session, JsonObject sampleSettings);

/// <summary>A role's opener and the capabilities the model it opens gives (e.g. "denoiser" → IImageSampler).</summary>
public sealed record OnnxRole(OnnxOpener Open, params Type[] Gives);

public static class OnnxModels
{
    public const string ClassifierRole = "classifier";
    public const string InputName = "images";
    public const string OutputName = "logits";
    public const string RoleKey = "gen.role";

    public static bool IsOnnxPath(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>The roles Pipeline itself opens (exported classifiers).</summary>
    public static IReadOnlyDictionary<string, OnnxRole> BuiltInRoles { get; } =
        new Dictionary<string, OnnxRole>(StringComparer.Ordinal) { [ClassifierRole] = new((s, _) => new OnnxClassifier(s), typeof(IClassifier)) };

    /// <summary>images [0,1] (B×C×H×W) → (x − mean)/std → <paramref name="network"/> → logits (B×K).</summary>
    public static void WriteClassifier(OnnxGraph g, IClassifier model, IReadOnlyList<double> mean, IReadOnlyList<double> std, IOnnxModule network)
    {
        string x = g.Input(InputName, model.Channels, model.Height, model.Width);
        string y = network.WriteOnnx(g, g.Normalize(x, mean, std), "");
        g.Output(g.Node("Identity", [y], OutputName), model.Classes);
    }

    /// <summary>The serialised ONNX model of <paramref name="model"/> with Gen's metadata, and its node count.</summary>
    public static (byte[] Bytes, int Nodes) Build(IOnnxExportable model, IModel opened, string checkpoint) => Build(model, OnnxSource.Of(opened, checkpoint));

    /// <summary>As above, for a network that is not a registry checkpoint (a feature extractor): its source named directly.</summary>
    public static (byte[] Bytes, int Nodes) Build(IOnnxExportable model, OnnxSource source)
    {
        var g = new OnnxGraph();
        model.WriteOnnx(g);
        var meta = new Dictionary<string, string>
        {
            [RoleKey] = model.OnnxRole,
            ["gen.kind"] = source.Kind,
            ["gen.step"] = source.Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["gen.model"] = source.Description,
            ["gen.checkpoint"] = source.FileName,
            ["gen.checkpoint_sha256"] = source.Sha256,
            ["gen.version"] = GenPaths.Version,
        };
        if (model is IClassifier c)
        {
            meta["gen.class_names"] = JsonSerializer.Serialize(c.ClassNames);
            meta["gen.training_data"] = c.TrainingData;
        }
        foreach (var (k, v) in model.OnnxMetadata) meta[k] = v;
        return (g.Model(meta).ToByteArray(), g.Graph.Node.Count);
    }

    /// <summary>A session on <paramref name="model"/>'s graph built in memory, on the device of <paramref name="inference"/>
    /// (a network that is not a registry checkpoint, e.g. a feature extractor, running on ONNX Runtime).</summary>
    public static OnnxSession InMemory(IOnnxExportable model, OnnxSource source, InferenceSettings inference)
    {
        var (bytes, _) = Build(model, source);
        return NewSession(bytes, $"{source.Description} (in memory)", inference);
    }

    /// <summary>A session on a serialised model, on the device of <paramref name="inference"/>.</summary>
    private static OnnxSession NewSession(byte[] model, string source, InferenceSettings inference)
    {
        var (session, device) = OnnxDevices.CreateSession(model, inference.Device, inference.Threads);
        return new OnnxSession(session, source, device.Provider);
    }

    /// <summary>Writes <paramref name="model"/> (opened from <paramref name="checkpoint"/>) to <paramref name="outPath"/>
    /// atomically, then compares ONNX Runtime's output with TorchSharp's on seeded inputs.</summary>
    public static OnnxExportReport Export(IOnnxExportable model, IModel opened, string checkpoint, string outPath, int parityInputs = 64) =>
        Export(model, OnnxSource.Of(opened, checkpoint), outPath, parityInputs);

    public static OnnxExportReport Export(IOnnxExportable model, OnnxSource source, string outPath, int parityInputs = 64)
    {
        var (bytes, nodes) = Build(model, source);
        AtomicFile.WriteAllBytes(outPath, bytes);
        using var session = new InferenceSession(outPath);
        var (maxAbs, maxRel) = Parity(model, session, parityInputs);
        return new OnnxExportReport(outPath, bytes.Length, nodes, parityInputs, maxAbs, maxRel, model.OnnxRole, model.Tolerance);
    }

    /// <summary>Largest |ONNX − TorchSharp| on <paramref name="count"/> seeded inputs, and that over the largest |TorchSharp| output.</summary>
    public static (double MaxAbs, double MaxRelative) Parity(IOnnxExportable model, InferenceSession session, int count)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(0);
        var inputs = model.ParityInputs(count, gen);
        Tensor reference;
        using (no_grad()) reference = model.Reference(inputs).to_type(ScalarType.Float64);
        Tensor onnx = Run(session, inputs).to_type(ScalarType.Float64);
        double maxAbs = onnx.sub(reference).abs().max().item<double>();
        double scale = Math.Max(reference.abs().max().item<double>(), 1e-12);
        return (maxAbs, maxAbs / scale);
    }

    /// <summary>One forward pass of a session whose single input takes B×C×H×W float32.</summary>
    public static Tensor Run(InferenceSession session, Tensor input) =>
        Run(session, new Dictionary<string, Tensor> { [session.InputMetadata.Keys.First()] = input });

    /// <summary>One forward pass: every graph input by name (converted to float32); the first output as a tensor.</summary>
    public static Tensor Run(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs) => RunAll(session, inputs)[0];

    /// <summary>One forward pass; every output, in the graph's order.</summary>
    public static Tensor[] RunAll(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = new List<NamedOnnxValue>();
        foreach (string name in session.InputMetadata.Keys)
        {
            if (!inputs.TryGetValue(name, out Tensor? t)) throw new InvalidOperationException($"no value for the ONNX input '{name}'");
            using var c = t.detach().to_type(ScalarType.Float32).cpu().contiguous();
            int[] dims = c.shape.Select(d => (int)d).ToArray();
            values.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensorF(c.data<float>().ToArray(), dims)));
        }
        using var results = session.Run(values);
        return results.Select(r =>
        {
            var output = r.AsTensor<float>();
            long[] shape = output.Dimensions.ToArray().Select(d => (long)d).ToArray();
            return output is DenseTensorF dense ? tensor(dense.Buffer.ToArray(), shape) : tensor(output.ToArray(), shape);
        }).ToArray();
    }

    /// <summary>Opens an ONNX file Gen exported through the opener of its role (one-line errors for anything else).</summary>
    public static IModel Open(string path, IReadOnlyDictionary<string, OnnxRole>? roles = null, JsonObject? sampleSettings = null,
                              InferenceSettings? inference = null)
    {
        if (!File.Exists(path)) throw new GenInputException($"ONNX model '{path}' does not exist; check the path (gen export writes one)");
        OnnxSession session;
        try { session = NewSession(File.ReadAllBytes(path), path, inference ?? InferenceSettings.Default); }
        catch (OnnxRuntimeException e)
        {
            throw new GenInputException($"'{path}' is not an ONNX model ONNX Runtime can load ({e.Message.Split('\n')[0]}); pass a file written by gen export");
        }
        return OpenSession(session, roles ?? BuiltInRoles, sampleSettings);
    }

    /// <summary>A model graph built in memory (for --engine onnx), opened on the chosen device.</summary>
    public static IModel Open(byte[] model, string source, IReadOnlyDictionary<string, OnnxRole> roles, JsonObject? sampleSettings, InferenceSettings inference)
    {
        return OpenSession(NewSession(model, source, inference), roles, sampleSettings);
    }

    private static IModel OpenSession(OnnxSession session, IReadOnlyDictionary<string, OnnxRole> roles, JsonObject? sampleSettings)
    {
        try
        {
            string role = session.Meta(RoleKey) ?? "";
            if (!roles.TryGetValue(role, out var opener))
                throw new GenInputException(role == ""
                    ? $"'{session.Source}' is an ONNX model without Gen's metadata (gen.role); only models written by gen export open here"
                    : $"'{session.Source}' is a Gen ONNX model of role '{role}', which this build cannot open (roles: {string.Join(", ", roles.Keys)})");
            if (sampleSettings is { Count: > 0 } && !opener.Gives.Contains(typeof(IImageSampler)))
                throw new GenInputException($"sampling options ({string.Join(", ", sampleSettings.Select(kv => "--" + kv.Key.Replace('_', '-')))}) do not apply to an exported {role}");
            return opener.Open(session, sampleSettings ?? new JsonObject());
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}

/// <summary>An exported classifier run by ONNX Runtime (on the session's execution provider).</summary>
public sealed class OnnxClassifier : IModel, IClassifier
{
    private readonly OnnxSession _session;

    internal OnnxClassifier(OnnxSession session)
    {
        _session = session;
        var input = session.Session.InputMetadata.Values.First();
        var output = session.Session.OutputMetadata.Values.First();
        if (session.Session.InputMetadata.Count != 1 || input.Dimensions.Length != 4 || output.Dimensions.Length != 2)
            throw new GenInputException($"'{session.Source}' takes {session.Session.InputMetadata.Count} input(s) of {input.Dimensions.Length}-d and gives {output.Dimensions.Length}-d output; a classifier maps B×C×H×W images to B×K logits");
        (Channels, Height, Width, Classes) = (input.Dimensions[1], input.Dimensions[2], input.Dimensions[3], output.Dimensions[1]);
        var meta = session.Metadata;
        ClassNames = meta.TryGetValue("gen.class_names", out string? names) ? JsonSerializer.Deserialize<string[]>(names) ?? [] : [];
        TrainingData = meta.GetValueOrDefault("gen.training_data") ?? "";
        Kind = meta.GetValueOrDefault("gen.kind") ?? "onnx";
        Step = long.TryParse(meta.GetValueOrDefault("gen.step"), out long s) ? s : 0;
        Description = $"{Kind} step {Step} ({session.Engine})";
    }

    public string Path => _session.Source;
    public string Kind { get; }
    public long Step { get; }
    public string Description { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public string TrainingData { get; }

    public Tensor Logits(Tensor images01) => OnnxModels.Run(_session.Session, images01);

    public void Dispose() => _session.Dispose();
}
