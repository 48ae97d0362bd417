// Line plots of training curves (metrics.jsonl → PNG) and bar charts (per-class metrics) with ScottPlot 5.
using ScottPlot;

namespace Gen.Pipeline.Imaging;

public static class Plots
{
    /// <summary>One PNG per series: y against x, with a title and axis labels.</summary>
    public static void Line(string path, string title, string xLabel, string yLabel,
                            IReadOnlyList<(string Name, double[] X, double[] Y)> series, bool logY = false)
    {
        var plot = new Plot();
        foreach (var (name, x, y) in series)
        {
            if (x.Length == 0) continue;
            double[] ys = logY ? y.Select(v => Math.Log10(Math.Max(v, 1e-12))).ToArray() : y;
            var s = plot.Add.Scatter(x, ys);
            s.LegendText = name;
            s.MarkerSize = x.Length > 60 ? 0 : 4;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(logY ? $"log10 {yLabel}" : yLabel);
        if (series.Count > 1) plot.ShowLegend();
        Save(plot, path, 640, 400);
    }

    /// <summary>Series on the left axis and, optionally, one series on a right axis of its own scale
    /// (e.g. detector accuracy beside FID against training step).</summary>
    public static void TwoAxes(string path, string title, string xLabel, string leftLabel,
                               IReadOnlyList<(string Name, double[] X, double[] Y)> left, (string Name, double[] X, double[] Y)? right)
    {
        var plot = new Plot();
        foreach (var (name, x, y) in left)
        {
            if (x.Length == 0) continue;
            var s = plot.Add.Scatter(x, y);
            s.LegendText = name;
            s.MarkerSize = 5;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(leftLabel);
        if (right is var (rName, rx, ry) && rx.Length > 0)
        {
            var s = plot.Add.Scatter(rx, ry);
            s.LegendText = rName;
            s.MarkerSize = 5;
            s.LinePattern = LinePattern.Dashed;
            s.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = rName;
        }
        plot.ShowLegend(Alignment.LowerLeft);   // curves that fall with step leave that corner empty
        Save(plot, path, 720, 420);
    }

    /// <summary>One bar per named value (e.g. FID per class), labels under the bars.</summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<string> names, IReadOnlyList<double> values)
    {
        var plot = new Plot();
        plot.Add.Bars(values.ToArray());
        double[] positions = Enumerable.Range(0, names.Count).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, names.ToArray());
        plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        Save(plot, path, Math.Max(640, 16 + 8 * names.Sum(n => Math.Max(n.Length, 6)) + 16 * names.Count), 420);
    }

    private static void Save(Plot plot, string path, int width, int height)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string tmp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Environment.ProcessId}.tmp.png");
        plot.SavePng(tmp, width, height);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Plots every metric of a metrics.jsonl against step into <paramref name="folder"/>.</summary>
    public static IReadOnlyList<string> FromMetricsLog(string metricsPath, string folder)
    {
        var rows = Training.MetricsLog.Read(metricsPath);
        var keys = rows.SelectMany(r => r.Keys).Distinct()
                       .Where(k => k is not ("step" or "epoch" or "images" or "elapsed_s" or "rss_mb" or "gc_pause_s" or "images_per_s")).ToList();
        var written = new List<string>();
        foreach (string key in keys)
        {
            var pts = rows.Where(r => r.ContainsKey(key) && r.ContainsKey("step") && double.IsFinite(r[key])).ToList();
            if (pts.Count == 0) continue;
            string file = System.IO.Path.Combine(folder, key.Replace('/', '_') + ".png");
            Line(file, key, "step", key, [(key, pts.Select(r => r["step"]).ToArray(), pts.Select(r => r[key]).ToArray())]);
            written.Add(file);
        }
        return written;
    }
}
