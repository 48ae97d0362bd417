// diff-bench superres: where does LowDiff lose quality? Runs only the refine stages of a LowDiff checkpoint,
// conditioned on REAL test images brought down to a lower resolution (instead of the model's own
// low-resolution samples), and writes the results as a PNG folder for `gen fid … fashion-mnist:test`.
//   diff-bench superres --ckpt runs/diff/lowdiff/last.safetensors --octaves 1 --steps 6 [--sigma-start 2]
//                       [--n 1000] [--batch 250] --out DIR
// --octaves 1: the 32² stage given the real 16² image; 2: the 16² and 32² stages given the real 8² image.
// Compared with the anchors (real 16²/8² upsampled, no model) and the full cascade's FID, this separates a
// weak refine stage from weak low-resolution samples. Same sampler code path as gen sample's refine stages
// (Up(prev) + σ_start·z, cond = Up(prev), σ_aug = 0); image i uses Generator(i).
using Gen.Generative.Diffusion;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using static TorchSharp.torch;

public static class SuperRes
{
    public static void Run(Args o)
    {
        var model = DiffusionModel.Load(o.Str("ckpt", "runs/diff/lowdiff/last.safetensors"));
        DiffusionConfig c = model.Config;
        if (!c.IsCascade) throw new ArgumentException("superres needs a LowDiff checkpoint");
        int octaves = o.Int("octaves", 1), steps = o.Int("steps", 6), n = o.Int("n", 1000), batch = o.Int("batch", 250);
        double sigmaStart = o.Dbl("sigma-start", 2.0);
        string outDir = o.Str("out", $"runs/diff/superres-o{octaves}");
        if (octaves < 1 || octaves >= c.Stages) throw new ArgumentException($"--octaves must be 1..{c.Stages - 1}");
        Directory.CreateDirectory(outDir);
        var test = DatasetCatalog.Load("fashion-mnist", Split.Test);
        model.Net.eval();
        using var noGrad = no_grad();
        int pad = (c.Resolution - c.DataResolution) / 2, size = c.DataResolution;
        foreach (int[] chunk in Enumerable.Range(0, n).Chunk(batch))
        {
            using var scope = NewDisposeScope();
            int b = chunk.Length;
            var gens = chunk.Select(i => new Generator((ulong)i)).ToList();
            Tensor prev = LowDiffCascade.Down(DiffusionMethod.Prepare(Batches.Float(test, chunk), c), octaves).to(ScalarType.Float64);
            for (int s = c.Stages - octaves; s < c.Stages; s++)
            {
                int r = c.StageResolution(s);
                double[] t = KarrasSchedule.Sigmas(steps, c.SigmaMin, sigmaStart, c.Rho);
                Tensor z = HeunSampler.PerImageNoise(gens, [b, c.ImgChannels, r, r], ScalarType.Float32).to(ScalarType.Float64);
                var (x, stage) = DiffusionSampler.RefineStart(prev, z, t[0], sigmaAug: 0, s, c.Stages, gens);
                prev = HeunSampler.Sample(DiffusionSampler.Guided(model.Precond, null, stage, 1, b), x, t, null, gens, CancellationToken.None);
            }
            Tensor img = prev.narrow(2, pad, size).narrow(3, pad, size).to(ScalarType.Float32).add(1).div(2);
            byte[] u8 = Batches.ToBytes(img);
            int per = size * size;
            for (int i = 0; i < b; i++)
                ImageCodec.WritePng(Path.Combine(outDir, $"{chunk[i]:D6}.png"), u8.AsSpan(i * per, per).ToArray(), 1, size, size);
            foreach (var g in gens) g.Dispose();
            Console.WriteLine($"{chunk[^1] + 1}/{n}");
        }
        Console.WriteLine($"wrote {outDir} ({n} images, octaves {octaves}, {steps} steps per refine stage from σ = {sigmaStart})");
    }
}
