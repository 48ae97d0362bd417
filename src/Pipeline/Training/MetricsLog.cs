// metrics.jsonl: one JSON object per line ({"step":…, "loss":…, …}). Appends are flushed per line;
// on resume, lines past the resumed step (written after the last checkpoint by a run that was then
// killed) are dropped so the curve continues exactly where the checkpoint left off.
using System.Globalization;
using System.Text.Json;

namespace Gen.Pipeline.Training;

public sealed class MetricsLog
{
    private readonly string _path;

    public MetricsLog(string path) => _path = path;

    public string Path => _path;

    public void Append(IReadOnlyDictionary<string, double> values)
    {
        var parts = values.Select(kv => $"\"{kv.Key}\":{Format(kv.Value)}");
        string line = "{" + string.Join(",", parts) + "}\n";
        using var fs = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = System.Text.Encoding.UTF8.GetBytes(line);
        fs.Write(bytes);
        fs.Flush(flushToDisk: true);
    }

    private static string Format(double v) =>
        double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : $"\"{v.ToString(CultureInfo.InvariantCulture)}\"";

    public static List<Dictionary<string, double>> Read(string path)
    {
        var rows = new List<Dictionary<string, double>>();
        if (!File.Exists(path)) return rows;
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var row = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var p in doc.RootElement.EnumerateObject())
                    row[p.Name] = p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : double.NaN;
                rows.Add(row);
            }
            catch (JsonException)
            {
                // A line torn by a kill during the append: everything before it is intact.
                break;
            }
        }
        return rows;
    }

    /// <summary>Keeps only rows with step ≤ <paramref name="step"/> (rewritten atomically).</summary>
    public void TruncateAfter(long step)
    {
        if (!File.Exists(_path)) return;
        var keep = Read(_path).Where(r => r.TryGetValue("step", out double s) && s <= step).ToList();
        var text = string.Concat(keep.Select(r => "{" + string.Join(",", r.Select(kv => $"\"{kv.Key}\":{Format(kv.Value)}")) + "}\n"));
        AtomicFile.WriteAllText(_path, text);
    }
}
