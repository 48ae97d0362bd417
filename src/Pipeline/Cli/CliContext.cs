// What a command worker gets from Program: its writers (so tests capture output), a Spectre console
// bound to stdout, whether stderr is an interactive terminal (progress bars) and the Ctrl-C token.
using Spectre.Console;

namespace Gen.Cli;

public sealed class CliContext
{
    public required TextWriter Out { get; init; }
    public required TextWriter Err { get; init; }
    public required IAnsiConsole Console { get; init; }
    public required IAnsiConsole ErrConsole { get; init; }
    public bool Interactive { get; init; }
    public CancellationToken Cancel { get; init; }

    public static CliContext Create(TextWriter stdout, TextWriter stderr, bool interactive, CancellationToken cancel)
    {
        IAnsiConsole Make(TextWriter w, bool ansi)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(w),
                Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = ansi ? InteractionSupport.Detect : InteractionSupport.No,
            });
            // Redirected output (logs, files, CI) has no terminal width; tables would wrap at 80.
            if (!ansi) console.Profile.Width = 120;
            return console;
        }
        return new CliContext
        {
            Out = stdout,
            Err = stderr,
            Console = Make(stdout, interactive && !System.Console.IsOutputRedirected),
            ErrConsole = Make(stderr, interactive),
            Interactive = interactive,
            Cancel = cancel,
        };
    }

    public void WriteJson(object value) => Out.WriteLine(Gen.Pipeline.Json.Serialize(value));
}
