// `gen train <kind>` for every registered method, and `gen pretrain --method NAME` for each method
// family: options come from the method's [Param] record plus the shared training and run options; the
// work is the library's TrainStage. Nothing here knows a method by name.
using System.CommandLine;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class TrainCommands
{
    public static Command Train(MethodRegistry registry, Func<CliContext> cli)
    {
        var train = new Command("train", "Train a model of any registered kind");
        foreach (var stage in registry.Stages.OfType<TrainStage>())
            train.Subcommands.Add(Create(stage.Method.Name, stage.Summary, _ => stage, stage.Specs, null, cli));
        return train;
    }

    /// <summary>One command per method family (e.g. `gen pretrain --method simclr`).</summary>
    public static IEnumerable<Command> Families(MethodRegistry registry, Func<CliContext> cli)
    {
        foreach (var group in registry.Stages.OfType<TrainStage>().Where(s => s.Method.Family is not null).GroupBy(s => s.Method.Family!))
        {
            var stages = group.ToList();
            var method = new Option<string>("--method", "-m")
            {
                Description = string.Join(", ", stages.Select(s => s.Method.Name)),
                DefaultValueFactory = _ => stages.Any(s => s.Method.Name == "simclr") ? "simclr" : stages[0].Method.Name,
            };
            TrainStage Pick(ParseResult r)
            {
                string name = r.GetValue(method)!.ToLowerInvariant();
                return stages.FirstOrDefault(s => s.Method.Name == name)
                    ?? throw new GenInputException($"--method takes {string.Join(", ", stages.Select(s => s.Method.Name))}, got '{name}'");
            }
            yield return Create(group.Key, $"Train a {group.Key} method ({string.Join(", ", stages.Select(s => s.Method.Name))}); the same as gen train METHOD",
                                Pick, stages[0].Specs, method, cli);
        }
    }

    private static Command Create(string name, string summary, Func<ParseResult, TrainStage> pick, IEnumerable<ParamSpec> specs,
                                  Option<string>? methodOption, Func<CliContext> cli)
    {
        var command = new Command(name, summary);
        if (methodOption is not null) command.Options.Add(methodOption);
        var options = new ParamOptions(specs, command);
        var outDir = new Option<string?>("--out", "-o") { Description = "Run folder (default: runs/KIND)" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint" };
        var init = new Option<string?>("--init") { Description = "Start from the weights of this checkpoint (e.g. an earlier stage's run)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the resolved options and exit" };
        foreach (Option o in new Option[] { outDir, resume, init, json, dryRun }) command.Options.Add(o);

        command.SetAction(r =>
        {
            CliContext c = cli();
            TrainStage stage = pick(r);
            TrainRequest req = stage.Bind(options.Given(r), $"gen {name}") with { Init = r.GetValue(init) };
            string dir = r.GetValue(outDir) ?? Path.Combine("runs", stage.Method.Name);
            if (r.GetValue(dryRun))
            {
                c.WriteJson(new JsonObject
                {
                    ["kind"] = stage.Kind,
                    ["out_dir"] = dir,
                    ["parameters"] = TrainStage.Semantic(req),
                    ["run"] = System.Text.Json.JsonSerializer.SerializeToNode(req.Run, Json.Options),
                    ["init"] = req.Init,
                });
                return ExitCodes.Ok;
            }
            TrainResult result = ProgressView.Run(c, stage.Method.Name, progress =>
                stage.Train(req, dir, r.GetValue(resume), progress, new SyncProgress<string>(m => c.Err.WriteLine(m)), c.Cancel));
            StageOutcome outcome = stage.Outcome(result);
            if (r.GetValue(json))
            {
                var o = new JsonObject { ["run"] = dir };
                foreach (var (k, v) in outcome.Result!.AsObject()) o[k] = v?.DeepClone();
                c.WriteJson(o);
            }
            else if (result.Interrupted)
                c.Console.MarkupLine($"[yellow]interrupted[/] at step {result.Step}; checkpoint saved to {Markup.Escape(result.LastCheckpoint)}; continue with --resume");
            else c.Console.MarkupLine(Markup.Escape(outcome.Summary));
            return result.Interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
        });
        return command;
    }
}
