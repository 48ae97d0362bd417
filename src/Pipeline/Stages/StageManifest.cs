// The stage contract (docs/architecture.md "Stages"). A stage has a kind, semantic parameters (what
// changes its result), declared inputs with content hashes, and outputs in one folder. The folder's
// stage.json records all of them plus the status and the key StageKey.Compute(kind, params, input
// hashes), so the pipeline runner skips a stage whose manifest says "complete" under the same key and
// resumes one left "running" or "interrupted".
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gen.Pipeline.Stages;

public enum StageStatus { Running, Complete, Interrupted, Failed }

public sealed record StageInput(string Name, string Spec, string ContentHash);

public sealed record StageManifest
{
    public const string FileName = "stage.json";

    public required string Kind { get; init; }
    public required JsonNode Params { get; init; }
    public required IReadOnlyList<StageInput> Inputs { get; init; }
    public IReadOnlyList<string> Outputs { get; init; } = [];
    public StageStatus Status { get; init; } = StageStatus.Running;
    public string Key => StageKey.Compute(Kind, Params, Inputs);
    public string GenVersion { get; init; } = GenPaths.Version;
    public DateTimeOffset Started { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? Finished { get; init; }
    public JsonNode? Result { get; init; }

    public StageManifest With(StageStatus status) => this with { Status = status, Finished = DateTimeOffset.UtcNow };

    public void Write(string folder) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), Json.Serialize(this));

    /// <summary>Runs a stage under this manifest: written as running before, then failed, interrupted
    /// or complete (with its result record) after.</summary>
    public T Run<T>(string folder, Func<T> run, Func<T, (bool Interrupted, JsonNode? Result)> outcome)
    {
        Directory.CreateDirectory(folder);
        Write(folder);
        T value;
        try
        {
            value = run();
        }
        catch
        {
            (this with { Status = StageStatus.Failed, Finished = DateTimeOffset.UtcNow }).Write(folder);
            throw;
        }
        var (interrupted, result) = outcome(value);
        (this with
        {
            Status = interrupted ? StageStatus.Interrupted : StageStatus.Complete,
            Finished = DateTimeOffset.UtcNow,
            Result = result,
        }).Write(folder);
        return value;
    }

    public static StageManifest? Read(string folder)
    {
        string path = Path.Combine(folder, FileName);
        return File.Exists(path) ? Json.Deserialize<StageManifest>(File.ReadAllText(path), $"'{path}'") : null;
    }
}

public static class StageKey
{
    /// <summary>Hex SHA-256 (first 16 bytes) of the kind, the canonical params JSON and the input hashes in order.</summary>
    public static string Compute(string kind, JsonNode parameters, IEnumerable<StageInput> inputs)
    {
        var sb = new StringBuilder();
        sb.Append(kind).Append('\n').Append(Canonical(parameters)).Append('\n');
        foreach (var i in inputs) sb.Append(i.Name).Append('=').Append(i.ContentHash).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..32];
    }

    /// <summary>JSON with object keys sorted, no whitespace: equal parameters give equal text.</summary>
    public static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal)
                                             .Select(p => System.Text.Json.JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };
}

public static class ContentHash
{
    /// <summary>
    /// A file's SHA-256; for a folder, the SHA-256 of its sorted (relative path, size, SHA-256 of the
    /// content) list. Content only: a copied folder (new modification times, same files) hashes the
    /// same, and any change to a byte, a name, an added or a removed file changes the hash. Files are
    /// hashed in parallel (bench/pipeline measures a 10,000-PNG folder).
    /// </summary>
    public static string OfPath(string path)
    {
        if (File.Exists(path)) return "sha256:" + OfFile(path);
        if (Directory.Exists(path))
        {
            string[] files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                                      .Select(f => Path.GetRelativePath(path, f).Replace('\\', '/'))
                                      .Where(f => !Path.GetFileName(f).StartsWith('.'))
                                      .Order(StringComparer.Ordinal).ToArray();
            var lines = new string[files.Length];
            Parallel.For(0, files.Length, i =>
            {
                string full = Path.Combine(path, files[i]);
                lines[i] = $"{files[i]}\t{new FileInfo(full).Length}\t{OfFile(full)}\n";
            });
            return "tree:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(lines))));
        }
        throw new GenInputException($"'{path}' does not exist; check the path");
    }

    private static string OfFile(string file)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    /// <summary>
    /// The content hash of a data reference: a dataset short name (its located source plus the split),
    /// a file or a folder (plus the split when one is given).
    /// </summary>
    public static string OfData(string spec, Data.Split defaultSplit)
    {
        var r = Data.DatasetRef.Parse(spec);
        string source = r.ShortName is not null ? Data.DatasetCatalog.Locate(Data.DatasetCatalog.Known[r.ShortName]) : r.Path!;
        return OfPath(source) + "/" + Data.DatasetCatalog.SplitName(r.Split ?? defaultSplit);
    }
}

