// gen sample [CKPT]: images from any checkpoint that samples (IImageSampler). The generic options are
// the library's SampleParams; each method adds its sampler options ([Param] records in the registry);
// without a checkpoint the bundled one is used. The work is SampleStage.Sample.
using System.CommandLine;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class SampleCommand
{
    public static Command Create(MethodRegistry registry, Func<CliContext> cli)
    {
        var stage = new SampleStage(registry);
        var command = new Command("sample", "Sample images from a generator checkpoint: grid PNG, PNG folder, .npz");
        var checkpoint = new Argument<string?>("checkpoint") { Description = $"A generator checkpoint, its run folder, or an exported denoiser (.onnx) (default: the bundled {SampleStage.BundledCheckpoint})", Arity = ArgumentArity.ZeroOrOne };
        command.Arguments.Add(checkpoint);
        var generic = new ParamOptions(ParamSchema.Of<SampleParams>().Specs, command);
        var sampler = new ParamOptions(registry.SampleSpecs(), command);
        var grid = new Option<string?>("--grid") { Description = "Write a PNG grid of the images" };
        var outDir = new Option<string?>("--out", "-o") { Description = "Write one PNG per image (named by seed) into this folder" };
        var npz = new Option<string?>("--npz") { Description = "Write the images as a uint8 N×H×W×C array (arr_0) in an .npz file" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = libtorch's default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        foreach (Option o in new Option[] { grid, outDir, npz, threads, json }) command.Options.Add(o);
        var engine = new EngineOptions(command);

        command.SetAction(r =>
        {
            CliContext c = cli();
            engine.Apply(r, registry, r.GetValue(threads));
            var p = ParamSchema.Of<SampleParams>().Bind(new SampleParams(), generic.Given(r), "gen sample");
            int count = p.SeedList().Count;
            SampleResult res = ProgressView.Count(c, "sample", count, progress =>
                stage.Sample(r.GetValue(checkpoint), p, sampler.Given(r), r.GetValue(threads), r.GetValue(grid), r.GetValue(outDir), r.GetValue(npz), progress, c.Cancel));
            if (r.GetValue(json)) { c.WriteJson(SampleStage.ToJson(res)); return ExitCodes.Ok; }
            c.Console.MarkupLine(Markup.Escape(SampleStage.Describe(res)));
            if (res.SamplerInfo["details"]?.GetValue<string>() is { } details) c.Console.MarkupLine(Markup.Escape(details));
            if (res.Grid is not null) c.Console.MarkupLine($"grid: {Markup.Escape(res.Grid)}");
            if (res.Folder is not null) c.Console.MarkupLine($"images: {Markup.Escape(res.Folder)}");
            if (res.Npz is not null) c.Console.MarkupLine($"npz: {Markup.Escape(res.Npz)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
