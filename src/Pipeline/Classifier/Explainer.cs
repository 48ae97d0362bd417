// `gen explain` as a library (docs/methods/detection.md "Grad-CAM"): gathers images (files, folders,
// dataset references), checks them against the model's input, runs Grad-CAM in batches and writes
// per image a strip (input | heat map | overlay, enlarged), one captioned grid and explain.json.
// Every image is read and checked before anything is written; each file is written atomically.
using System.Text.Json.Nodes;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

public sealed record ExplainParams
{
    public string Target { get; init; } = "pred";
    public double Alpha { get; init; } = 0.5;
    public int Scale { get; init; } = 8;

    /// <summary>Images taken from each folder or dataset argument (files always count one).</summary>
    public int PerSource { get; init; } = 16;

    /// <summary>Strips per grid row.</summary>
    public int Columns { get; init; } = 2;

    public void Validate()
    {
        if (!(Alpha >= 0 && Alpha <= 1)) throw new GenInputException($"--alpha must be in [0, 1], got {Alpha}");
        if (Scale is < 1 or > 32) throw new GenInputException($"--scale must be between 1 and 32, got {Scale}");
        if (PerSource < 1) throw new GenInputException($"--n must be at least 1, got {PerSource}");
        if (Columns < 1) throw new GenInputException($"--columns must be at least 1, got {Columns}");
    }
}

/// <summary>An image to explain: its name, planar pixels and, when the source says so, its true class.</summary>
public sealed record ExplainInput(string Name, byte[] Pixels, int Channels, int Height, int Width, string? Truth);

public sealed record ExplainItem(ExplainInput Input, CamMap Cam, string File);

public static class Explainer
{
    /// <summary>Images from each argument: an image file; a folder of image files (sorted, the first n);
    /// otherwise a dataset reference (its first n images, with their class names).</summary>
    public static List<ExplainInput> Gather(IEnumerable<string> sources, int perSource, IProgress<string>? log = null)
    {
        var list = new List<ExplainInput>();
        foreach (string src in sources)
        {
            if (File.Exists(src))
            {
                var d = ImageCodec.Decode(src);
                list.Add(new ExplainInput(Path.GetFileName(src), d.Pixels, d.Channels, d.Height, d.Width, null));
                continue;
            }
            if (Directory.Exists(src) && Directory.EnumerateFiles(src).Any(ImageCodec.IsImageFile))
            {
                foreach (string f in Directory.EnumerateFiles(src).Where(ImageCodec.IsImageFile).Order(StringComparer.Ordinal).Take(perSource))
                {
                    var d = ImageCodec.Decode(f);
                    list.Add(new ExplainInput(Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(f)))! + "/" + Path.GetFileName(f), d.Pixels, d.Channels, d.Height, d.Width, null));
                }
                continue;
            }
            ImageSet set = DatasetCatalog.Load(src, Split.Test, log);
            foreach (int i in SpreadOverClasses(set, perSource))
            {
                int l = set.Labels[i];
                string? truth = l >= 0 && l < set.ClassCount ? set.ClassNames[l] : null;
                list.Add(new ExplainInput($"{set.Name}#{i}", set.Image(i).ToArray(), set.Channels, set.Height, set.Width, truth));
            }
        }
        if (list.Count == 0) throw new GenInputException("no images to explain; pass image files, a folder of images or a dataset such as fashion-mnist:test");
        return list;
    }

    /// <summary>The first <paramref name="n"/> indices taken round-robin over the classes (the first image
    /// of each class, then the second, …), so a REAL/FAKE set shows both; unlabelled images come last.</summary>
    public static IEnumerable<int> SpreadOverClasses(ImageSet set, int n)
    {
        var queues = Enumerable.Range(0, set.Count).GroupBy(i => set.Labels[i] >= 0 ? set.Labels[i] : int.MaxValue)
                               .OrderBy(g => g.Key).Select(g => new Queue<int>(g)).ToList();
        int taken = 0;
        while (taken < n && queues.Any(q => q.Count > 0))
            foreach (var q in queues)
                if (taken < n && q.Count > 0) { yield return q.Dequeue(); taken++; }
    }

    /// <summary>Grad-CAM of every input; the inputs must match the model's size (grey images feed colour models as three equal channels).</summary>
    public static List<(ExplainInput Input, CamMap Cam)> Run(IConvClassifier model, IReadOnlyList<ExplainInput> inputs, string target, int batchSize = 64)
    {
        int per = model.Channels * model.Height * model.Width;
        foreach (var x in inputs)
        {
            if (x.Height != model.Height || x.Width != model.Width)
                throw new GenInputException($"image '{x.Name}' is {x.Width}x{x.Height} but the model takes {model.Width}x{model.Height}; resize it first");
            if (x.Channels != model.Channels && !(x.Channels == 1 && model.Channels == 3))
                throw new GenInputException($"image '{x.Name}' has {x.Channels} channels but the model takes {model.Channels}; convert it to {(model.Channels == 1 ? "greyscale" : "RGB")} first");
        }
        var result = new List<(ExplainInput, CamMap)>();
        for (int start = 0; start < inputs.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = inputs.Skip(start).Take(batchSize).ToList();
            var bytes = new byte[batch.Count * per];
            for (int i = 0; i < batch.Count; i++)
            {
                byte[] px = batch[i].Channels == model.Channels ? batch[i].Pixels : Heatmap.ToRgb(batch[i].Pixels, 1, model.Height, model.Width);
                px.CopyTo(bytes, i * per);
            }
            Tensor images = tensor(bytes, [batch.Count, model.Channels, model.Height, model.Width]).to_type(ScalarType.Float32).div_(255);
            CamMap[] cams = GradCam.Explain(model, images, target);
            for (int i = 0; i < batch.Count; i++) result.Add((batch[i], cams[i]));
        }
        return result;
    }

    /// <summary>Writes the strips, grid.png and explain.json into <paramref name="outDir"/>; returns the items with their file names.</summary>
    public static List<ExplainItem> Write(IConvClassifier model, IReadOnlyList<(ExplainInput Input, CamMap Cam)> maps, string outDir, ExplainParams p,
                                          string checkpoint, string description)
    {
        Directory.CreateDirectory(outDir);
        var items = new List<ExplainItem>();
        int h = model.Height, w = model.Width;
        var strips = new List<byte[]>();
        var captions = new List<Caption>();
        int stripW = 0;
        for (int i = 0; i < maps.Count; i++)
        {
            var (input, cam) = maps[i];
            var (strip, sh, sw) = Heatmap.Strip(input.Pixels, input.Channels, cam.Upsampled, h, w, p.Alpha);
            stripW = sw;
            string stem = new string(Path.GetFileNameWithoutExtension(input.Name).Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray());
            string file = $"{i:D4}-{stem}.png";
            ImageCodec.WritePng(Path.Combine(outDir, file), Grid.Upscale(strip, 3, sh, sw, p.Scale), 3, sh * p.Scale, sw * p.Scale);
            strips.Add(strip);
            int pred = Array.IndexOf(cam.Probabilities, cam.Probabilities.Max());
            string text = $"{model.ClassNames.ElementAtOrDefault(pred)} {cam.Probabilities[pred]:F2}" + (input.Truth is null ? "" : $" (true {input.Truth})");
            bool wrong = input.Truth is not null && !input.Truth.Equals(model.ClassNames.ElementAtOrDefault(pred), StringComparison.OrdinalIgnoreCase);
            captions.Add(new Caption(text, wrong ? SkiaSharp.SKColors.Red : SkiaSharp.SKColors.Black));
            items.Add(new ExplainItem(input, cam, file));
        }
        byte[] all = strips.SelectMany(s => s).ToArray();
        Grid.WritePng(Path.Combine(outDir, "grid.png"), all, strips.Count, 3, h, stripW,
                      new GridOptions { NRow = p.Columns, Padding = 2, PadValue = 255, Scale = Math.Max(1, p.Scale / 2) }, captions);
        AtomicFile.WriteAllText(Path.Combine(outDir, "explain.json"), ToJson(model, items, p, checkpoint, description).ToJsonString(Json.Options));
        return items;
    }

    public static JsonObject ToJson(IConvClassifier model, IReadOnlyList<ExplainItem> items, ExplainParams p, string checkpoint, string description)
    {
        var arr = new JsonArray();
        foreach (var it in items)
        {
            var (row, col) = it.Cam.Peak(model.Width);
            var probs = new JsonObject();
            for (int c = 0; c < model.Classes; c++) probs[model.ClassNames.ElementAtOrDefault(c) ?? c.ToString()] = Math.Round(it.Cam.Probabilities[c], 6);
            arr.Add(new JsonObject
            {
                ["image"] = it.Input.Name,
                ["file"] = it.File,
                ["truth"] = it.Input.Truth,
                ["target"] = model.ClassNames.ElementAtOrDefault(it.Cam.Target) ?? it.Cam.Target.ToString(),
                ["score"] = it.Cam.Score,
                ["probabilities"] = probs,
                ["empty"] = it.Cam.Empty,
                ["peak"] = new JsonArray(row, col),
                ["map_size"] = new JsonArray(it.Cam.RawHeight, it.Cam.RawWidth),
            });
        }
        return new JsonObject
        {
            ["checkpoint"] = checkpoint,
            ["model"] = description,
            ["layer"] = model.CamLayer,
            ["target"] = p.Target,
            ["alpha"] = p.Alpha,
            ["colour_map"] = "hot",
            ["images"] = arr,
        };
    }
}
