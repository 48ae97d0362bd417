// Sampling images from any checkpoint that can (IImageSampler): seeds, the bundled-checkpoint lookup,
// the sampler's own options (declared by its method), and the outputs (grid PNG, one PNG per seed,
// .npz). `gen sample` and the pipeline's sample stage (which writes images/ and grid.png into its
// folder) both run this code.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;

namespace Gen.Pipeline.Stages;

public sealed record SampleParams
{
    [Param("Number of images")]
    public int N { get; init; } = 64;

    [Param("Seed of the first image; image i uses seed + i")]
    public long Seed { get; init; }

    [Param("Explicit seeds, e.g. 0-63 or 1,5,9 (overrides --seed and --n)")]
    public string? Seeds { get; init; }

    [Param("Images per row of the --grid (10 gives one class per column when the class is seed mod 10)")]
    public int Columns { get; init; } = 8;

    /// <summary>The seeds to sample, in order (one-line errors for bad text).</summary>
    public IReadOnlyList<long> SeedList()
    {
        if (Columns < 1) throw new GenInputException($"--columns must be positive, got {Columns}");
        return Seeds is { } s ? SampleStage.ParseSeeds(s) : SampleStage.Range(Seed, N);
    }
}

public sealed record SampleResult(string Checkpoint, string Model, long Step, IReadOnlyList<long> Seeds, int Channels, int Height, int Width,
                                  double Seconds, JsonObject SamplerInfo, string? Grid, string? Folder, string? Npz)
{
    public double ImagesPerSecond => Seeds.Count / Math.Max(Seconds, 1e-12);
}

public sealed class SampleStage(MethodRegistry registry) : IStageKind
{
    /// <summary>The bundled checkpoint, relative to the repository (or install) root.</summary>
    public const string BundledCheckpoint = "assets/diffusion/fmnist.safetensors";
    public const string ImagesDir = "images";
    public const string GridFile = "grid.png";

    public string Kind => "sample";
    public string Summary => "Images from a generator checkpoint: one PNG per seed in images/, and grid.png";
    public IReadOnlyList<StageInputDecl> Inputs => [new("checkpoint", true, "a checkpoint of a kind that samples images")];

    public string MainOutput(string outputDir) => Path.Combine(outputDir, ImagesDir);

    private IEnumerable<string> SettingKeys => registry.SampleSpecs().Select(s => s.FileKey);

    /// <summary>Splits flat parameters into the generic ones and the sampler's own settings.</summary>
    public (SampleParams Params, JsonObject Settings) Split(JsonObject given, string where)
    {
        var schema = ParamSchema.Of<SampleParams>();
        schema.CheckKeys(given, where, SettingKeys.Append("threads"));
        var p = schema.Bind(new SampleParams(), schema.Pick(given), where);
        var settings = new JsonObject();
        foreach (var (k, v) in given)
            if (schema.Find(k) is null && k != "threads") settings[k.Replace('-', '_')] = v?.DeepClone();
        _ = p.SeedList();
        return (p, settings);
    }

    public JsonNode Resolve(JsonObject parameters, string where)
    {
        var (p, settings) = Split(parameters, where);
        return new JsonObject { ["params"] = JsonSerializer.SerializeToNode(p, Json.Options), ["sampler"] = settings };
    }

    public StageOutcome Run(StageRun run)
    {
        var (p, settings) = Split(run.Params, $"stage '{run.Name}'");
        int threads = run.Params["threads"]?.GetValue<int>() ?? 0;
        SampleResult r = Sample(run.Inputs["checkpoint"], p, settings, threads,
                                grid: Path.Combine(run.OutputDir, GridFile), folder: MainOutput(run.OutputDir), npz: null, cancel: run.Cancel);
        return new StageOutcome(false, ToJson(r), Describe(r));
    }

    /// <summary>Samples one image per seed and writes the requested outputs.</summary>
    public SampleResult Sample(string? checkpoint, SampleParams p, JsonObject settings, int threads, string? grid, string? folder, string? npz,
                               IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        if (threads < 0) throw new GenInputException($"--threads must be zero (auto) or positive, got {threads}");
        IReadOnlyList<long> seeds = p.SeedList();
        string path = checkpoint ?? Bundled();
        Denormals.Configure(threads);   // before any tensor work: libtorch's worker threads inherit flush-to-zero
        using IImageSampler sampler = registry.Open<IImageSampler>(path, "sample images", settings);
        var clock = Stopwatch.StartNew();
        byte[] images = sampler.Sample(seeds, progress, cancel);
        double seconds = clock.Elapsed.TotalSeconds;
        int c = sampler.Channels, h = sampler.Height, w = sampler.Width;
        if (grid is not null) SampleFiles.WriteGrid(grid, images, seeds.Count, c, h, w, columns: p.Columns);
        if (folder is not null) SampleFiles.WriteFolder(folder, images, seeds, c, h, w);
        if (npz is not null) SampleFiles.WriteNpz(npz, images, seeds, c, h, w);
        long step = sampler is IModel m ? m.Step : 0;
        return new SampleResult(Checkpoints.Checkpoint.ResolvePath(path), sampler.Description, step, seeds, c, h, w, seconds,
                                sampler.LastRun, grid, folder, npz);
    }

    public static string Describe(SampleResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Seeds.Count} images from {r.Model} in {r.Seconds:F2} s: {r.ImagesPerSecond:F1} images/s");

    public static JsonObject ToJson(SampleResult r)
    {
        var o = new JsonObject
        {
            ["checkpoint"] = r.Checkpoint,
            ["model"] = r.Model,
            ["step"] = r.Step,
            ["n"] = r.Seeds.Count,
            ["first_seed"] = r.Seeds[0],
            ["last_seed"] = r.Seeds[^1],
            ["seconds"] = r.Seconds,
            ["images_per_s"] = r.ImagesPerSecond,
        };
        foreach (var (k, v) in r.SamplerInfo) o[k] = v?.DeepClone();
        if (r.Grid is not null) o["grid"] = r.Grid;
        if (r.Folder is not null) o["out_dir"] = r.Folder;
        if (r.Npz is not null) o["npz"] = r.Npz;
        return o;
    }

    /// <summary>The bundled checkpoint: $GEN_ASSETS, then upward from the executable and the working folder.</summary>
    public static string Bundled()
    {
        string rel = BundledCheckpoint["assets/".Length..];
        if (Environment.GetEnvironmentVariable("GEN_ASSETS") is { Length: > 0 } env)
        {
            if (File.Exists(Path.Combine(env, rel))) return Path.Combine(env, rel);
            throw new GenInputException($"GEN_ASSETS is '{env}' but it holds no {rel}; point it at Gen's assets folder or pass a checkpoint: gen sample CKPT");
        }
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, BundledCheckpoint);
                if (File.Exists(candidate)) return candidate;
            }
        throw new GenInputException($"no checkpoint given and the bundled {BundledCheckpoint} was not found (set GEN_ASSETS to the assets folder); pass a checkpoint: gen sample CKPT");
    }

    public static List<long> Range(long first, int n)
    {
        if (n <= 0) throw new GenInputException($"--n must be at least 1, got {n}");
        return Enumerable.Range(0, n).Select(i => first + i).ToList();
    }

    /// <summary>"0-63", "1,5,9", "0-3,10" → seeds in order.</summary>
    public static List<long> ParseSeeds(string text)
    {
        var seeds = new List<long>();
        try
        {
            foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int dash = part.IndexOf('-', 1);
                if (dash > 0)
                {
                    long a = long.Parse(part[..dash], CultureInfo.InvariantCulture), b = long.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
                    if (b < a || b - a >= 10_000_000) throw new FormatException();
                    for (long s = a; s <= b; s++) seeds.Add(s);
                }
                else seeds.Add(long.Parse(part, CultureInfo.InvariantCulture));
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new GenInputException($"--seeds takes integers and ranges separated by commas (e.g. 0-63 or 1,5,9), got '{text}'");
        }
        if (seeds.Count == 0) throw new GenInputException("--seeds is empty; give e.g. 0-63");
        return seeds;
    }
}
