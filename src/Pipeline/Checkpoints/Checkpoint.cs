// Model checkpoints: a module's state_dict (parameters and buffers, PyTorch key names) in a
// safetensors file whose __metadata__ holds the model kind, its config as JSON, the step and the Gen
// version, so a checkpoint alone is enough to rebuild and use the model, and PyTorch users can read
// it with safetensors.torch.load_file. Loading checks the kind, the key set and every shape.
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Pipeline.Checkpoints;

public sealed record CheckpointInfo(string Kind, string ConfigJson, long Step, string Version,
                                    IReadOnlyDictionary<string, string> Metadata);

public static class Checkpoint
{
    public const string KindKey = "gen.kind";
    public const string ConfigKey = "gen.config";
    public const string StepKey = "gen.step";
    public const string VersionKey = "gen.version";

    public static Dictionary<string, string> Metadata(string kind, string configJson, long step,
                                                      IReadOnlyDictionary<string, string>? extra = null)
    {
        var m = new Dictionary<string, string>
        {
            [KindKey] = kind,
            [ConfigKey] = configJson,
            [StepKey] = step.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [VersionKey] = GenPaths.Version,
            ["format"] = "pt", // lets safetensors' PyTorch loader accept the file without a warning
        };
        if (extra is not null) foreach (var kv in extra) m[kv.Key] = kv.Value;
        return m;
    }

    /// <summary>Saves named tensors (e.g. a state_dict) atomically with Gen's metadata.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, string kind, string configJson,
                            long step, IReadOnlyDictionary<string, string>? extra = null)
    {
        var st = tensors.Select(kv => new KeyValuePair<string, StTensor>(kv.Key, TensorBytes.ToSt(kv.Value))).ToList();
        SafeTensors.Write(path, st, Metadata(kind, configJson, step, extra));
    }

    public static void Save(string path, nn.Module module, string kind, string configJson, long step,
                            IReadOnlyDictionary<string, string>? extra = null) =>
        Save(path, module.state_dict(), kind, configJson, step, extra);

    public static CheckpointInfo Info(SafeTensorsFile file) => Info(file.Metadata, file.Path);

    private static CheckpointInfo Info(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(KindKey, out string? kind))
            throw new GenInputException($"'{path}' is a safetensors file without Gen metadata (no '{KindKey}'); pass a checkpoint written by gen");
        metadata.TryGetValue(ConfigKey, out string? config);
        metadata.TryGetValue(VersionKey, out string? version);
        long step = metadata.TryGetValue(StepKey, out string? s) && long.TryParse(s, out long v) ? v : 0;
        return new CheckpointInfo(kind, config ?? "{}", step, version ?? "?", metadata);
    }

    /// <summary>A checkpoint's kind, config and step from its header alone (the tensors are not read).</summary>
    public static CheckpointInfo ReadInfo(string path)
    {
        string file = ResolvePath(path);
        return Info(SafeTensors.ReadMetadata(file), file);
    }

    /// <summary>Reads a checkpoint and checks that it holds a model of one of the expected kinds.</summary>
    public static (SafeTensorsFile File, CheckpointInfo Info) Open(string path, params string[] expectedKinds)
    {
        SafeTensorsFile file = SafeTensors.Read(ResolvePath(path));
        CheckpointInfo info = Info(file);
        if (expectedKinds.Length > 0 && !expectedKinds.Contains(info.Kind))
            throw new GenInputException($"checkpoint '{file.Path}' holds a '{info.Kind}' model, not {string.Join(" or ", expectedKinds.Select(k => $"'{k}'"))}; pass a checkpoint of that kind");
        return (file, info);
    }

    /// <summary>The weights of the best validation epoch, written by runs that select on validation.</summary>
    public const string BestFile = "best.safetensors";

    /// <summary>A run folder stands for its best.safetensors when the run kept one (selection on
    /// validation), otherwise for its last.safetensors.</summary>
    public static string ResolvePath(string path)
    {
        if (Directory.Exists(path))
        {
            string best = Path.Combine(path, BestFile);
            if (File.Exists(best)) return best;
            string last = Path.Combine(path, "last.safetensors");
            if (File.Exists(last)) return last;
            throw new GenInputException($"folder '{path}' holds no last.safetensors; pass a checkpoint file or a finished run folder");
        }
        return path;
    }

    /// <summary>Copies tensors named <c>prefix + key</c> into the module's state, checking keys, shapes and dtypes.</summary>
    /// <remarks><paramref name="include"/> limits the load to the tensors it accepts (by state-dict name); the others keep their values.</remarks>
    public static void LoadInto(nn.Module module, SafeTensorsFile file, string prefix = "", Func<string, bool>? include = null)
    {
        var state = module.state_dict().Where(kv => include?.Invoke(kv.Key) ?? true).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var available = file.Tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                                         .Select(k => k[prefix.Length..]).Where(k => include?.Invoke(k) ?? true).ToHashSet(StringComparer.Ordinal);
        var missing = state.Keys.Where(k => !available.Contains(k)).ToList();
        var unexpected = available.Where(k => !state.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            string what = missing.Count > 0
                ? $"it lacks {missing.Count} tensor(s) the model needs (first: '{missing[0]}')"
                : $"it has {unexpected.Count} tensor(s) the model does not know (first: '{unexpected[0]}')";
            throw new GenInputException($"checkpoint '{file.Path}' does not fit this model: {what}; was it written by another model configuration?");
        }
        using var _ = no_grad();
        foreach (var (name, target) in state)
        {
            StTensor src = file.Tensors[prefix + name];
            if (!src.Shape.SequenceEqual(target.shape))
                throw new GenInputException($"checkpoint '{file.Path}' does not fit this model: '{name}' has shape {SafeTensors.FormatShape(src.Shape)} in the file but the model expects {SafeTensors.FormatShape(target.shape)}");
            using Tensor t = TensorBytes.FromSt(src);
            if (t.dtype != target.dtype && !(t.is_floating_point() && target.is_floating_point()))
                throw new GenInputException($"checkpoint '{file.Path}' does not fit this model: '{name}' is {src.DType} in the file but the model holds {target.dtype}");
            target.copy_(t);
        }
    }
}

/// <summary>Conversion between TorchSharp tensors and safetensors byte blobs.</summary>
public static class TensorBytes
{
    public static string DType(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"dtype {t} has no safetensors name"),
    };

    public static ScalarType ToScalarType(string dtype) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new GenInputException($"safetensors dtype {dtype} is not supported by Gen"),
    };

    public static StTensor ToSt(Tensor t)
    {
        using Tensor c = t.detach().cpu().contiguous();
        return new StTensor(DType(c.dtype), c.shape, c.numel() == 0 ? [] : c.bytes.ToArray());
    }

    public static Tensor FromSt(StTensor st)
    {
        Tensor t = empty(st.Shape, ToScalarType(st.DType));
        if (st.Data.Length > 0) t.bytes = st.Data;
        return t;
    }
}
