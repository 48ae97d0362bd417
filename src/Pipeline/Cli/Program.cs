// The `gen` command line: declares commands and binds each to its worker (dotnet-counters style).
// Maps GenInputException and parse errors to exit code 2 with a one-line message, anything else to 1.
using System.CommandLine;
using System.Runtime.InteropServices;
using Gen.Cli;
using Gen.Cli.Commands;
using Gen.Generative;
using Gen.Metrics;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using Gen.Representation;

CpuKernels.Apply();      // ATen's AVX2 kernels unless ATEN_CPU_CAPABILITY is set (docs/platform.md §11)
MallocTuning.Apply();
return GenCli.Run(args, Console.Out, Console.Error, interactive: !Console.IsErrorRedirected);

namespace Gen.Cli
{
    public static class GenCli
    {
        /// <summary>The composition root: the method projects of this build, one line each.</summary>
        public static MethodRegistry Registry() =>
            new MethodRegistry().AddPipeline().AddGenerative().AddRepresentation().AddMetrics();

        public static RootCommand Build(Func<CliContext> cli) => Build(Registry().Use(), cli);

        public static RootCommand Build(MethodRegistry registry, Func<CliContext> cli)
        {
            var root = new RootCommand("gen: generative and representation learning on images (TorchSharp training, ONNX deployment)");
            root.Subcommands.Add(TrainCommands.Train(registry, cli));
            foreach (var family in TrainCommands.Families(registry, cli)) root.Subcommands.Add(family);
            root.Subcommands.Add(SampleCommand.Create(registry, cli));
            root.Subcommands.Add(ClassifierCommands.Eval(registry, cli));
            root.Subcommands.Add(ClassifierCommands.Classify(registry, cli));
            root.Subcommands.Add(ClassifierCommands.Robust(registry, cli));
            root.Subcommands.Add(DetectCommands.Detect(registry, cli));
            root.Subcommands.Add(DetectCommands.Curve(cli));
            root.Subcommands.Add(DetectCommands.Explain(registry, cli));
            root.Subcommands.Add(ExportCommand.Create(registry, cli));
            root.Subcommands.Add(ExportCommand.Devices(cli));
            root.Subcommands.Add(ProbeCommand.Probe(registry, cli));
            root.Subcommands.Add(RunCommand.Create(registry, cli));
            root.Subcommands.Add(DataCommands.Create(cli));
            MetricsCommands.AddTo(root, cli);
            return root;
        }

        public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive)
        {
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                // First Ctrl-C: ask the running stage to checkpoint and stop. Second: exit at once.
                if (cts.IsCancellationRequested) return;
                e.Cancel = true;
                stderr.WriteLine("stopping after the current step (Ctrl-C again to abort)...");
                cts.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
            try
            {
                CliContext? context = null;
                CliContext Context() => context ??= CliContext.Create(stdout, stderr, interactive, cts.Token);
                RootCommand root = Build(Context);
                ParseResult parsed = root.Parse(args);
                if (parsed.Errors.Count > 0)
                {
                    stderr.WriteLine($"error: {parsed.Errors[0].Message} (see 'gen {string.Join(' ', CommandPath(parsed))} --help')");
                    return ExitCodes.BadInput;
                }
                return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr });
            }
            catch (GenInputException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (Exception e)
            {
                stderr.WriteLine($"internal error: {e.GetType().Name}: {e.Message}");
                if (Environment.GetEnvironmentVariable("GEN_DEBUG") == "1") stderr.WriteLine(e);
                else stderr.WriteLine("(set GEN_DEBUG=1 for the stack trace; please report it)");
                return ExitCodes.InternalError;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
                if (Environment.GetEnvironmentVariable("GEN_TRACE_NATIVE") == "1")
                    stderr.WriteLine($"native: libtorch {(NativeLoaded("libtorch_cpu") ? "loaded" : "not loaded")}");
            }
        }

        private static IEnumerable<string> CommandPath(ParseResult parsed)
        {
            var names = new List<string>();
            for (var r = parsed.CommandResult; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
                names.Insert(0, r.Command.Name);
            return names;
        }

        /// <summary>Whether a native library is mapped into this process (Linux /proc; false elsewhere).</summary>
        public static bool NativeLoaded(string name)
        {
            try { return File.ReadLines("/proc/self/maps").Any(l => l.Contains(name, StringComparison.Ordinal)); }
            catch (IOException) { return false; }
        }
    }
}
