// Renders training progress: a Spectre.Console bar with ETA, loss, LR and images/s on a terminal;
// plain lines every few seconds on stderr when output is redirected (logs, CI, tests).
using System.Diagnostics;
using System.Globalization;
using Gen.Pipeline;
using Gen.Pipeline.Training;
using Spectre.Console;

namespace Gen.Cli;

public static class ProgressView
{
    public static T Run<T>(CliContext cli, string title, Func<IProgress<TrainProgress>, T> work)
    {
        if (!cli.Interactive) return work(Lines(cli, title));
        T result = default!;
        cli.ErrConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                     new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: 1);
                result = work(new SyncProgress<TrainProgress>(p =>
                {
                    if (p.Message is not null) { task.Description = $"{title}: {Markup.Escape(p.Message)}"; return; }
                    task.MaxValue = p.TotalSteps;
                    task.Value = p.Step;
                    task.Description = Markup.Escape($"{title} {Describe(p)}");
                }));
                task.StopTask();
            });
        return result;
    }

    /// <summary>Plain progress lines on stderr: every message, the last step, and a step line at most every <paramref name="seconds"/>.</summary>
    public static IProgress<TrainProgress> Lines(CliContext cli, string title, double seconds = 5)
    {
        var clock = Stopwatch.StartNew();
        double lastPrint = double.NegativeInfinity;
        return new SyncProgress<TrainProgress>(p =>
        {
            if (p.Message is not null) { cli.Err.WriteLine($"{title}: {p.Message}"); return; }
            bool end = p.Step == p.TotalSteps;
            if (!end && clock.Elapsed.TotalSeconds - lastPrint < seconds) return;
            lastPrint = clock.Elapsed.TotalSeconds;
            cli.Err.WriteLine($"{title}: {Describe(p)}");
        });
    }

    private static string Describe(TrainProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"step {p.Step}/{p.TotalSteps} epoch {p.Epoch} loss {p.Loss:F4}{Shown(p)} lr {p.Lr:G3} {p.ImagesPerSecond:F0} img/s elapsed {Fmt(p.Elapsed)} eta {Fmt(p.Eta)}");

    private static string Shown(TrainProgress p) => p.Shown.Count == 0 ? ""
        : " (" + string.Join(", ", p.Shown.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} {m.Value:F4}"))) + ")";

    private static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    /// <summary>A bar counting images (sampling) on a terminal; nothing when output is redirected.</summary>
    public static T Count<T>(CliContext c, string title, int total, Func<IProgress<int>?, T> work)
    {
        if (!c.Interactive) return work(null);
        T result = default!;
        c.ErrConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: total);
                result = work(new SyncProgress<int>(done => task.Value = done));
            });
        return result;
    }
}
