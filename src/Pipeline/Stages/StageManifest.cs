// The stage contract (ARCHITECTURE.md "The data path"). Every command runs one stage: a kind, its
// parameters (JSON), declared inputs with content hashes, and declared outputs in an output folder.
// The folder's stage.json records all of them plus the status, so a pipeline runner can key a
// stage's folder by StageKey.Compute(kind, params, input hashes), skip stages whose manifest says
// "complete", and resume those left "running" or "interrupted", without changing the stages.
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

    public void Write(string folder) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), Json.Serialize(this));

    /// <summary>Runs a training stage under this manifest: written as running before, then failed,
    /// interrupted or complete (with the step, elapsed seconds and final metrics) after.</summary>
    public Training.TrainResult RunTraining(string folder, Func<Training.TrainResult> run)
    {
        Write(folder);
        Training.TrainResult result;
        try
        {
            result = run();
        }
        catch
        {
            (this with { Status = StageStatus.Failed, Finished = DateTimeOffset.UtcNow }).Write(folder);
            throw;
        }
        (this with
        {
            Status = result.Interrupted ? StageStatus.Interrupted : StageStatus.Complete,
            Finished = DateTimeOffset.UtcNow,
            Result = System.Text.Json.JsonSerializer.SerializeToNode(new { result.Step, result.FinalMetrics, result.ElapsedSeconds }, Json.Options),
        }).Write(folder);
        return result;
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
    /// A file's SHA-256; for a folder, the SHA-256 of its sorted (relative path, size, modification time)
    /// list, which is cheap on large image folders and changes whenever a file is added, removed or rewritten.
    /// </summary>
    public static string OfPath(string path)
    {
        if (File.Exists(path))
        {
            using var fs = File.OpenRead(path);
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(fs));
        }
        if (Directory.Exists(path))
        {
            var sb = new StringBuilder();
            foreach (string f in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                var info = new FileInfo(f);
                sb.Append(Path.GetRelativePath(path, f)).Append('\t').Append(info.Length).Append('\t')
                  .Append(info.LastWriteTimeUtc.Ticks).Append('\n');
            }
            return "tree:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
        }
        throw new GenInputException($"'{path}' does not exist; check the path");
    }
}

/// <summary>A stage: one unit of the pipeline with declared inputs, typed parameters and an output folder.</summary>
public interface IStage<TParams, TResult>
{
    string Kind { get; }
    IReadOnlyList<StageInput> Inputs(TParams parameters);
    TResult Run(TParams parameters, StageContext context);
}

public sealed class StageContext
{
    public required string OutputDir { get; init; }
    public CancellationToken Cancel { get; init; }
    public IProgress<string>? Log { get; init; }
}
