// The registry: every method descriptor and every pipeline stage kind of this build, listed once by
// the CLI's composition root (docs/architecture.md "The method registry"). It opens any Gen checkpoint
// through the method that wrote it and hands out capabilities; the CLI's verbs and the pipeline runner
// are built from it, so no command knows a method by name.
//
// MethodRegistry.Current is the one process-wide registration (set once at start-up by the
// composition root, or by a test's initializer): library code that meets a checkpoint path in its
// inputs (metrics reading a generator) opens it through it.
using System.Text.Json.Nodes;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Stages;

namespace Gen.Pipeline.Methods;

public sealed class MethodRegistry
{
    private readonly List<IMethod> _methods = [];
    private readonly List<IStageKind> _stages = [];
    private readonly Dictionary<string, Func<IClassifier>> _referenceClassifiers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Onnx.OnnxRole> _onnxRoles = new(Onnx.OnnxModels.BuiltInRoles, StringComparer.Ordinal);

    /// <summary>The engine and device of this process's inference (set from --engine/--device by the verbs that take them).</summary>
    public Onnx.InferenceSettings Inference { get; set; } = Onnx.InferenceSettings.Default;

    public IReadOnlyList<IMethod> Methods => _methods;
    public IReadOnlyList<IStageKind> Stages => _stages;

    public static MethodRegistry? Current { get; private set; }

    /// <summary>Makes this registry the process-wide one (composition root).</summary>
    public MethodRegistry Use()
    {
        Current = this;
        return this;
    }

    public MethodRegistry Add(IMethod method)
    {
        if (_methods.Any(m => m.Name == method.Name))
            throw new InvalidOperationException($"method '{method.Name}' is registered twice");
        _methods.Add(method);
        _stages.Add(new TrainStage(method));
        return this;
    }

    public MethodRegistry Add(IStageKind stage)
    {
        if (_stages.Any(s => s.Kind == stage.Kind))
            throw new InvalidOperationException($"stage kind '{stage.Kind}' is registered twice");
        _stages.Add(stage);
        return this;
    }

    /// <summary>Registers the classifier that judges generated images of a dataset's classes (sample
    /// accuracy); the opener is called once per use and the caller disposes what it returns.</summary>
    public MethodRegistry AddReferenceClassifier(string dataset, Func<IClassifier> open)
    {
        _referenceClassifiers[dataset] = open;
        return this;
    }

    /// <summary>Registers how an exported ONNX model of <paramref name="role"/> opens (e.g. "denoiser" → a sampler)
    /// and the capabilities the opened model gives.</summary>
    public MethodRegistry AddOnnxRole(string role, Onnx.OnnxOpener open, params Type[] gives)
    {
        _onnxRoles[role] = new Onnx.OnnxRole(open, gives);
        return this;
    }

    /// <summary>The reference classifier of a dataset reference ("fashion-mnist", "fashion-mnist:train"), or null.</summary>
    public IClassifier? ReferenceClassifier(string dataRef)
    {
        string name = dataRef.Split(':')[0];
        return _referenceClassifiers.TryGetValue(name, out var open) ? open() : null;
    }

    public IMethod Method(string name) =>
        _methods.FirstOrDefault(m => m.Name == name)
        ?? throw new GenInputException($"unknown method '{name}'; known: {string.Join(", ", _methods.Select(m => m.Name))}");

    public IStageKind? Stage(string kind) => _stages.FirstOrDefault(s => s.Kind == kind);

    public IMethod? ForCheckpointKind(string kind) => _methods.FirstOrDefault(m => m.CheckpointKinds.Contains(kind));

    /// <summary>Opens a checkpoint (file or run folder) through the method that wrote it.</summary>
    public IModel Open(string path, JsonObject? sampleSettings = null)
    {
        if (Onnx.OnnxModels.IsOnnxPath(path)) return OpenOnnxFile(path, sampleSettings);
        var (file, info, method) = Resolve(path);
        return Load(file, info, method, sampleSettings);
    }

    private IModel OpenOnnxFile(string path, JsonObject? sampleSettings)
    {
        if (Inference.Engine == "torch")
            throw new GenInputException($"'{path}' is an ONNX model, which runs on ONNX Runtime; drop --engine torch or pass a Gen checkpoint");
        return Onnx.OnnxModels.Open(path, _onnxRoles, sampleSettings, Inference);
    }

    /// <summary>Opens a checkpoint and returns the capability <typeparamref name="T"/>, or a one-line error naming the kinds that have it.
    /// <paramref name="gradients"/>: the caller differentiates through the model (PGD), so it stays on TorchSharp.</summary>
    public T Open<T>(string path, string need, JsonObject? sampleSettings = null, bool gradients = false) where T : class
    {
        if (gradients && Onnx.OnnxModels.IsOnnxPath(path))
            throw new GenInputException($"'{path}' is an ONNX model, but to {need} Gen needs gradients, which ONNX Runtime does not give; pass the checkpoint it was exported from");
        if (Onnx.OnnxModels.IsOnnxPath(path))
        {
            IModel onnx = OpenOnnxFile(path, sampleSettings);
            if (onnx is T found) return found;
            onnx.Dispose();
            throw new GenInputException($"the ONNX model '{path}' cannot {need}; pass a Gen checkpoint instead");
        }
        var (file, info, method) = Resolve(path);
        // Checked before loading: a checkpoint of the wrong kind is refused for what it is, not for its config.
        if (!method.CapabilitiesOf(info.Kind).Contains(typeof(T)))
            throw new GenInputException($"checkpoint '{file}' holds a '{info.Kind}' model, which cannot {need} (kinds that can: {string.Join(", ", _methods.SelectMany(x => x.CheckpointKinds.Where(k => x.CapabilitiesOf(k).Contains(typeof(T)))).Distinct().Select(k => $"'{k}'"))}); pass such a checkpoint");
        IModel model = Load(file, info, method, sampleSettings);
        if (model is not T)
        {
            model.Dispose();
            throw new InvalidOperationException($"method '{method.Name}' declares {typeof(T).Name} but its model does not implement it");
        }
        return typeof(T) == typeof(Onnx.IOnnxExportable) || gradients ? (T)model : OnEngine<T>(model, file, need, sampleSettings);
    }

    /// <summary>
    /// The opened model on the inference engine of <see cref="Inference"/>: unchanged for TorchSharp, or its
    /// graph built in memory and opened on ONNX Runtime when the engine (asked for, or the role's measured
    /// default) is onnx and the ONNX model still gives <typeparamref name="T"/>. Asking for onnx where it
    /// cannot serve is a one-line error; the automatic choice falls back to TorchSharp.
    /// </summary>
    private T OnEngine<T>(IModel model, string file, string need, JsonObject? sampleSettings) where T : class
    {
        bool asked = Inference.RequiresOnnx;
        if (model is not Onnx.IOnnxExportable exportable)
        {
            if (!asked) return (T)model;
            model.Dispose();
            throw new GenInputException($"--engine onnx: a '{model.Kind}' model has no ONNX graph in this build, so it cannot {need} on ONNX Runtime; use --engine torch");
        }
        if (!_onnxRoles.TryGetValue(exportable.OnnxRole, out var role) || !role.Gives.Contains(typeof(T)))
        {
            // The graph cannot serve this capability (a jem model's sampler, Grad-CAM): TorchSharp, or an error if ONNX was asked for.
            if (!asked) return (T)model;
            model.Dispose();
            throw new GenInputException($"--engine onnx: the ONNX graph of a '{model.Kind}' model cannot {need} (that needs TorchSharp); use --engine torch");
        }
        if (!Inference.UsesOnnx(exportable.OnnxRole)) return (T)model;
        IModel onnx;
        try
        {
            var (bytes, _) = Onnx.OnnxModels.Build(exportable, model, file);
            onnx = Onnx.OnnxModels.Open(bytes, $"{file} (in memory)", _onnxRoles, sampleSettings, Inference);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.Dispose();
        if (onnx is T t) return t;
        onnx.Dispose();
        throw new InvalidOperationException($"the ONNX role '{exportable.OnnxRole}' declares {typeof(T).Name} but its model does not implement it");
    }

    /// <summary>The checkpoint file, its metadata and the method that wrote it (from the header alone:
    /// the method's Load is the one read of the tensors).</summary>
    private (string File, CheckpointInfo Info, IMethod Method) Resolve(string path)
    {
        string file = Checkpoint.ResolvePath(path);
        if (!File.Exists(file)) throw new GenInputException($"checkpoint '{file}' does not exist; check the path");
        CheckpointInfo info = Checkpoint.ReadInfo(file);
        IMethod method = ForCheckpointKind(info.Kind)
            ?? throw new GenInputException($"checkpoint '{file}' holds a '{info.Kind}' model, which this build of gen does not know; kinds: {string.Join(", ", _methods.SelectMany(m => m.CheckpointKinds))}");
        return (file, info, method);
    }

    private static IModel Load(string file, CheckpointInfo info, IMethod method, JsonObject? sampleSettings)
    {
        if (sampleSettings is { Count: > 0 } && method.SampleSettingsType is null)
            throw new GenInputException($"sampling options ({string.Join(", ", sampleSettings.Select(kv => "--" + kv.Key.Replace('_', '-')))}) do not apply to a '{info.Kind}' checkpoint");
        if (sampleSettings is { Count: > 0 } && method.SampleSettingsType is { } st)
            ParamSchema.Of(st).CheckKeys(sampleSettings, $"a '{info.Kind}' checkpoint");
        return method.Load(file, info, sampleSettings ?? new JsonObject());
    }

    /// <summary>The union of every method's sampler options (one spec per name).</summary>
    public IReadOnlyList<ParamSpec> SampleSpecs()
    {
        var specs = new Dictionary<string, ParamSpec>(StringComparer.Ordinal);
        foreach (var m in _methods)
            if (m.SampleSettingsType is { } t)
                foreach (var s in ParamSchema.Of(t).Specs)
                {
                    if (specs.TryGetValue(s.Name, out var other) && other.Type != s.Type)
                        throw new InvalidOperationException($"sampler option --{s.Name} has two types ({other.Type}, {s.Type})");
                    specs.TryAdd(s.Name, s);
                }
        return specs.Values.ToList();
    }
}
