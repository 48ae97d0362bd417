// gen run PIPELINE.json [--dry-run] [--from STAGE] [--out DIR]: runs a pipeline file with the library's
// PipelineRunner; prints "[i/n] stage (kind): action" per stage, each stage's own progress, and a table.
using System.CommandLine;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class RunCommand
{
    public static Command Create(MethodRegistry registry, Func<CliContext> cli)
    {
        var command = new Command("run", "Run a pipeline file: stages keyed by their parameters and inputs; finished stages are reused, interrupted ones resume");
        var file = new Argument<string>("pipeline") { Description = "A pipeline JSON file (see assets/pipelines/)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (each stage: cached, resume or run, with its key) and exit" };
        var from = new Option<string?>("--from") { Description = "Rerun this stage and every stage after it that depends on it" };
        var outDir = new Option<string?>("--out", "-o") { Description = "Folder for the stages' outputs (default: runs/<pipeline file name>)" };
        var json = new Option<bool>("--json") { Description = "Print the plan or the result as JSON" };
        command.Arguments.Add(file);
        foreach (Option o in new Option[] { dryRun, from, outDir, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            var runner = new PipelineRunner(registry);
            string path = r.GetValue(file)!;
            var defs = runner.Load(path);
            string dir = r.GetValue(outDir) ?? Path.Combine("runs", Path.GetFileNameWithoutExtension(path));
            var plan = runner.Plan(defs, dir, r.GetValue(from));
            if (r.GetValue(dryRun))
            {
                if (r.GetValue(json))
                    c.WriteJson(plan.Select(s => new { stage = s.Def.Name, kind = s.Def.Kind, action = s.Action.ToString().ToLowerInvariant(), key = s.Key, folder = s.Folder, inputs = s.Inputs }));
                else
                {
                    var table = new Table().Border(TableBorder.Rounded);
                    foreach (string h in new[] { "#", "stage", "kind", "plan", "key", "inputs" }) table.AddColumn(h);
                    int i = 0;
                    foreach (var s in plan)
                        table.AddRow((++i).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(s.Def.Name), Markup.Escape(s.Def.Kind),
                                     s.Action.ToString().ToLowerInvariant(), s.Key[..16],
                                     Markup.Escape(string.Join(", ", s.Def.Inputs.Select(kv => $"{kv.Key}={kv.Value}"))));
                    c.Console.Write(table);
                    c.Console.MarkupLine($"outputs: {Markup.Escape(dir)}");
                }
                return ExitCodes.Ok;
            }
            var events = new SyncProgress<PipelineEvent>(e =>
            {
                if (e.Done is null) c.Err.WriteLine($"[{e.Index}/{e.Count}] {e.Stage.Def.Name} ({e.Stage.Def.Kind}): {e.Stage.Action.ToString().ToLowerInvariant()}");
                else if (e.Done.Action != StageAction.Cached) c.Err.WriteLine($"[{e.Index}/{e.Count}] {e.Stage.Def.Name}: {e.Done.Summary}");
            });
            PipelineResult result = runner.Run(plan, dir,
                s => s.Kind is TrainStage ? ProgressView.Lines(c, "  " + s.Def.Name, c.Interactive ? 2 : 5) : null,
                events, new SyncProgress<string>(m => c.Err.WriteLine(m)), c.Cancel);
            if (r.GetValue(json)) c.WriteJson(new { out_dir = dir, interrupted = result.Interrupted, stages = result.Stages });
            else
            {
                var table = new Table().Border(TableBorder.Rounded);
                foreach (string h in new[] { "stage", "did", "status", "result" }) table.AddColumn(h);
                foreach (var s in result.Stages)
                    table.AddRow(Markup.Escape(s.Name), s.Action.ToString().ToLowerInvariant(), s.Status.ToString().ToLowerInvariant(), Markup.Escape(s.Summary));
                c.Console.Write(table);
                c.Console.MarkupLine(result.Interrupted
                    ? $"[yellow]interrupted[/]; run the same command again to resume (outputs: {Markup.Escape(dir)})"
                    : $"outputs: {Markup.Escape(dir)}; run log: {Markup.Escape(Path.Combine(dir, PipelineRunner.RunLog))}");
            }
            return result.Interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
        });
        return command;
    }
}
