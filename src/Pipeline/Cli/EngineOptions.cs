// --engine and --device (docs/deploy.md §4–§5): which engine runs a verb's networks. They set the
// process's InferenceSettings on the registry, which every checkpoint the verb opens goes through.
using System.CommandLine;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;

namespace Gen.Cli;

public sealed class EngineOptions
{
    public readonly Option<string> Engine = new("--engine")
    {
        Description = "torch, onnx or auto: auto runs each network on the engine measured faster for its role (docs/deploy.md §5)",
        DefaultValueFactory = _ => "auto",
    };

    public readonly Option<string> Device = new("--device")
    {
        Description = "ONNX Runtime device: cpu, cuda, dml or auto (DirectML, then CUDA, then CPU)",
        DefaultValueFactory = _ => "auto",
    };

    public EngineOptions(Command command)
    {
        command.Options.Add(Engine);
        command.Options.Add(Device);
    }

    /// <summary>Checks the two options and makes them the registry's inference settings.</summary>
    public void Apply(ParseResult r, MethodRegistry? registry = null, int threads = 0)
    {
        var settings = new InferenceSettings(r.GetValue(Engine)!, r.GetValue(Device)!, threads).Validated();
        if (settings.Device != "auto") OnnxDevices.Resolve(settings.Device);   // refuse an unusable device before any work
        (registry ?? MethodRegistry.Current ?? throw new InvalidOperationException("no method registry")).Inference = settings;
    }
}
