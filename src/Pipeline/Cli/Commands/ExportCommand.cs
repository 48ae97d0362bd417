// gen export CKPT --out model.onnx: any checkpoint whose model is IOnnxExportable (docs/deploy.md),
// with the parity check against TorchSharp printed; a parity error above the tolerance fails the
// command (exit 1) and says so, the file being kept for inspection.
using System.CommandLine;
using System.Globalization;
using Gen.Metrics.Fmnist;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class ExportCommand
{
    /// <summary>The arguments that name a feature network instead of a checkpoint: the bundled Fashion-MNIST
    /// extractor, and the FID Inception from the user's weights (--weights, or the installed copy).</summary>
    public const string BundledExtractor = "fmnist-extractor";
    public const string Inception = "inception";

    public static Command Create(MethodRegistry registry, Func<CliContext> cli)
    {
        var command = new Command("export", "Export a checkpoint's network to ONNX (classifiers, detectors, energy models, diffusion denoisers, the Fashion-MNIST extractor), with a parity check against TorchSharp");
        var checkpoint = new Argument<string>("checkpoint") { Description = $"A checkpoint (.safetensors) or its run folder; '{BundledExtractor}' for the bundled Fashion-MNIST feature network; '{Inception}' for the FID Inception (pool3 and the logits of IS, from --weights or the installed weights)" };
        var output = new Option<string?>("--out", "-o") { Description = "The .onnx file to write (default: model.onnx beside the checkpoint)" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var weights = new Option<string?>("--weights") { Description = "inception: the weights file (default: the installed copy, or $GEN_INCEPTION_WEIGHTS)" };
        var weightsSha = new Option<string?>("--weights-sha256") { Description = "inception: accept a non-standard weights file with this SHA-256" };
        command.Arguments.Add(checkpoint);
        foreach (Option o in new Option[] { output, threads, json, weights, weightsSha }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            Denormals.Configure(r.GetValue(threads));
            string arg = r.GetValue(checkpoint)!;
            bool extractor = arg == BundledExtractor || (File.Exists(arg) && Gen.Pipeline.Stages.ImageGenerators.KindOf(arg) == FmnistExtractorMethod.KindName);
            bool inception = arg == Inception;
            string file = extractor || inception ? arg : Checkpoint.ResolvePath(arg);
            string outPath = r.GetValue(output) ?? (extractor ? "fmnist-extractor.onnx" : inception ? "inception.onnx" : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "model.onnx"));
            if (!outPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new GenInputException($"--out '{outPath}' should end in .onnx; name the file model.onnx or similar");
            OnnxExportReport rep;
            string description;
            if (inception)
            {
                using var net = Gen.Metrics.Features.InceptionExtractor.Open(r.GetValue(weights), r.GetValue(weightsSha), Gen.Metrics.Inception.InceptionOutput.Pool2048,
                    Gen.Metrics.Features.Preprocessing.PytorchFid, extras: [Gen.Metrics.Inception.InceptionOutput.LogitsUnbiased]);
                rep = OnnxModels.Export(net, net.Source, outPath, parityInputs: 16);
                description = net.Info.Network;
            }
            else if (extractor)
            {
                using var fmnist = arg == BundledExtractor ? FmnistExtractor.Bundled() : FmnistExtractor.FromFile(arg, null);
                rep = OnnxModels.Export(fmnist, fmnist.Source, outPath);
                description = fmnist.Info.Network;
            }
            else
            {
                var exportable = registry.Open<IOnnxExportable>(file, "be exported to ONNX");
                using var model = (IModel)exportable;
                rep = OnnxModels.Export(exportable, model, file, outPath);
                description = model.Description;
            }
            bool ok = rep.ParityOk;
            if (r.GetValue(json))
                c.WriteJson(new { path = rep.Path, bytes = rep.Bytes, nodes = rep.Nodes, opset = OnnxGraph.Opset, role = rep.Role, model = description,
                                  parity = new { inputs = rep.ParityInputs, max_abs_error = rep.MaxAbsError, max_relative_error = rep.MaxRelativeError,
                                                 tolerance = rep.Tolerance.Value, tolerance_kind = rep.Tolerance.Relative ? "relative" : "absolute", ok } });
            else
            {
                c.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {rep.Path}: {description}, {rep.Role}, {rep.Nodes} nodes, {rep.Bytes / 1024.0:F0} KB, opset {OnnxGraph.Opset}, batch axis dynamic")));
                c.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"parity on {rep.ParityInputs} seeded inputs against TorchSharp: max |Δ| {rep.MaxAbsError:G3}, relative {rep.MaxRelativeError:G3}, tolerance {rep.Tolerance}: {(ok ? "ok" : "FAILED")}")));
            }
            if (!ok) c.Err.WriteLine($"error: the exported graph disagrees with TorchSharp beyond {rep.Tolerance}; the file is kept for inspection; please report it");
            return ok ? ExitCodes.Ok : ExitCodes.InternalError;
        });
        return command;
    }

    /// <summary>gen devices: the execution providers of the ONNX Runtime build Gen runs with, what the missing ones need,
    /// and the CPU kernels TorchSharp's libtorch runs (docs/platform.md §11).</summary>
    public static Command Devices(Func<CliContext> cli)
    {
        var command = new Command("devices", "List the ONNX Runtime execution providers this build offers (CPU, CUDA, DirectML) and what the missing ones need");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Options.Add(json);
        command.SetAction(r =>
        {
            CliContext c = cli();
            var (version, providers) = OnnxDevices.List();
            string? aten = CpuKernels.Capability();
            if (r.GetValue(json))
            {
                c.WriteJson(new { onnxruntime = version, providers = providers.Select(p => new { name = p.Name, device = p.Device, available = p.Available, need = p.Need }),
                                  torch_cpu_kernels = aten, torch_cpu_kernels_source = aten is null ? null : CpuKernels.Source(), torch_threads = TorchSharp.torch.get_num_threads() });
                return ExitCodes.Ok;
            }
            c.Console.MarkupLine(Markup.Escape($"ONNX Runtime {version}"));
            var table = new Table().Border(TableBorder.Rounded);
            foreach (string h in new[] { "provider", "device", "status", "what it needs" }) table.AddColumn(h);
            foreach (var p in providers)
                table.AddRow(Markup.Escape(p.Name), Markup.Escape(p.Device), p.Available ? "[green]available[/]" : "[yellow]missing[/]", Markup.Escape(p.Need));
            c.Console.Write(table);
            if (aten is not null)
                c.Console.MarkupLine(Markup.Escape($"TorchSharp (libtorch CPU): ATen kernels {aten} ({CpuKernels.Source()}; docs/platform.md §11), {TorchSharp.torch.get_num_threads()} threads"));
            return ExitCodes.Ok;
        });
        return command;
    }
}
