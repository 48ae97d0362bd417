// Sampling from an EDM or LowDiff checkpoint (docs/methods/diffusion.md §2.5, §3.4). The EDM baseline runs the Heun
// sampler from σ_max at full resolution. LowDiff runs the base stage from σ_max at the lowest
// resolution, then each refine stage starts from up(previous) + σ_start·z at σ_start and integrates
// to σ_min with cond = up(previous) (continuing the diffusion at the higher resolution, after
// Teng et al. 2023 RDM's motivation). Classifier-free guidance (Ho & Salimans 2022; edm2
// generate_images.py) evaluates cond and uncond as one 2B batch: D = D_u + g·(D_c − D_u).
// Image i's noise (z₀, churn, z₁, …) all comes from Generator(seed_i), in execution order.
using System.Diagnostics;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public sealed record SampleOptions
{
    public int[]? StageSteps { get; init; }     // steps per stage; null = DefaultSteps
    public SolverKind[]? Samplers { get; init; }   // one solver for every stage, or one per stage; null = Heun
    public double SigmaStart { get; init; } = 2.0;   // docs/methods/diffusion.md §3.4: refine stages start at σ = 2
    public double SigmaAug { get; init; }       // σ_aug of the condition at inference (docs/methods/diffusion.md §3.4: default 0)
    public int? ClassIndex { get; init; }       // conditional models: fixed class; null = seed mod classes
    public double Guidance { get; init; } = 1;  // g = 1: no guidance (edm2 convention; CFG's w = g − 1)
    public ChurnOptions Churn { get; init; } = ChurnOptions.None;
    public int Batch { get; init; } = 256;      // docs/methods/diffusion.md §3.5 throughput protocol: batch 256

    /// <summary>Defaults (docs/methods/diffusion.md §2.5, §3.4): baseline N = 18 (35 NFE, edm/README.md); LowDiff (18, 8, 6).</summary>
    public static int[] DefaultSteps(DiffusionConfig c) => c.IsCascade
        ? Enumerable.Range(0, c.Stages).Select(s => s == 0 ? 18 : s == c.Stages - 1 ? 6 : 8).ToArray()
        : [18];
}

public sealed record SampleStats(int[] Resolutions, int[] Steps, int[] NfePerStage, double FullResEquivalentNfe,
                                 int Images, double Seconds, string[]? Samplers = null)
{
    public double ImagesPerSecond => Images / Math.Max(Seconds, 1e-12);
}

public static class DiffusionSampler
{
    /// <summary>The solver of stage <paramref name="s"/>.</summary>
    public static SolverKind SolverOf(SampleOptions o, int s) => o.Samplers is not { Length: > 0 } k ? SolverKind.Heun : k.Length == 1 ? k[0] : k[s];

    /// <summary>Checks options against the model; every fault is a one-line GenInputException.</summary>
    public static int[] Validate(DiffusionConfig c, SampleOptions o, int count)
    {
        if (count <= 0) throw new GenInputException($"--n must be at least 1, got {count}");
        if (o.Batch <= 0) throw new GenInputException($"--batch must be positive, got {o.Batch}");
        int[] steps = o.StageSteps ?? SampleOptions.DefaultSteps(c);
        if (steps.Length != c.Stages)
            throw new GenInputException(c.IsCascade
                ? $"--stage-steps needs {c.Stages} counts for this LowDiff checkpoint's cascade {string.Join(",", c.Cascade)}, got {steps.Length}"
                : $"this EDM checkpoint has one stage; give --steps N (or one --stage-steps value), got {steps.Length} counts");
        if (steps.Any(s => s < 1 || s > 1000)) throw new GenInputException($"step counts must be between 1 and 1000, got {string.Join(",", steps)}");
        if (c.LabelDim == 0)
        {
            if (o.ClassIndex is not null) throw new GenInputException("--class needs a class-conditional checkpoint (trained with --conditional); this one is unconditional");
            if (o.Guidance != 1) throw new GenInputException("--guidance needs a class-conditional checkpoint (trained with --conditional); this one is unconditional");
        }
        if (o.ClassIndex is { } k && (k < 0 || k >= c.LabelDim))
            throw new GenInputException($"--class {k} is out of range: this checkpoint knows classes 0..{c.LabelDim - 1}");
        if (!double.IsFinite(o.Guidance) || o.Guidance < 0) throw new GenInputException($"--guidance must be a finite number ≥ 0, got {o.Guidance}");
        if (c.IsCascade && !(o.SigmaStart > c.SigmaMin && o.SigmaStart <= c.SigmaMax))
            throw new GenInputException($"--sigma-start must be in ({c.SigmaMin}, {c.SigmaMax}], got {o.SigmaStart}");
        if (!(o.SigmaAug >= 0)) throw new GenInputException($"--sigma-aug must be ≥ 0, got {o.SigmaAug}");
        if (o.Churn.SChurn < 0 || !(o.Churn.SNoise > 0)) throw new GenInputException("--churn must be ≥ 0 and S_noise positive");
        if (o.Samplers is { Length: > 1 } solvers && solvers.Length != c.Stages)
            throw new GenInputException($"--sampler takes one name or one per cascade stage ({c.Stages} for this checkpoint), got {solvers.Length}");
        if (o.Churn.SChurn > 0 && Enumerable.Range(0, c.Stages).Any(s => SolverOf(o, s) != SolverKind.Heun))
            throw new GenInputException("--churn applies to the heun sampler only; drop --churn or use --sampler heun");
        return steps;
    }

    /// <summary>
    /// Samples one image per seed. Returns float32 images N×C×h×w in [−1, 1] (cropped back to the data
    /// size; not clamped) in seed order, and timing of the sampler calls alone.
    /// </summary>
    public static (Tensor Images, SampleStats Stats) Sample(DiffusionModel model, IReadOnlyList<long> seeds, SampleOptions o,
                                                            IProgress<int>? imagesDone = null, CancellationToken cancel = default)
    {
        model.Net.eval();
        return Sample(model.Precond, seeds, o, imagesDone, cancel);
    }

    /// <summary>As above, with any denoiser (TorchSharp or ONNX Runtime).</summary>
    public static (Tensor Images, SampleStats Stats) Sample(IEdmDenoiser model, IReadOnlyList<long> seeds, SampleOptions o,
                                                            IProgress<int>? imagesDone = null, CancellationToken cancel = default)
    {
        DiffusionConfig c = model.Config;
        int[] steps = Validate(c, o, seeds.Count);
        int[] res = Enumerable.Range(0, c.Stages).Select(c.StageResolution).ToArray();
        bool guided = c.LabelDim > 0 && o.Guidance != 1;
        var solvers = Enumerable.Range(0, c.Stages).Select(s => SolverOf(o, s)).ToArray();
        var (nfe, eq) = LowDiffCascade.Cost(res, steps, c.Resolution, guided, solvers);
        var parts = new List<Tensor>();
        var clock = new Stopwatch();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < seeds.Count; start += o.Batch)
            {
                var batchSeeds = seeds.Skip(start).Take(o.Batch).ToList();
                clock.Start();
                // libtorch 2.10 tries NNPACK for fp32 convolutions of batches below 16 and logs "Could not
                // initialize NNPACK! Reason: Unsupported hardware" on every call on this CPU (measured: 69
                // lines for 3 NFE; TORCH_CPP_LOG_LEVEL does not silence it), so a short batch is filled up
                // to 16 with copies of its last seed, whose images are then dropped (TorchSharp only).
                int minBatch = model is EdmPrecond ? MinConvBatch : 1;
                Tensor x = batchSeeds.Count < minBatch
                    ? KeepFirst(SampleBatch(model, [.. batchSeeds, .. Enumerable.Repeat(batchSeeds[^1], minBatch - batchSeeds.Count)], o, steps, cancel), batchSeeds.Count)
                    : SampleBatch(model, batchSeeds, o, steps, cancel);
                clock.Stop();
                parts.Add(x);
                imagesDone?.Report(start + batchSeeds.Count);
            }
            Tensor all = cat(parts, 0);
            all.DetachFromDisposeScope();
            return (all, new SampleStats(res, steps, nfe, eq, seeds.Count, clock.Elapsed.TotalSeconds, solvers.Select(Solvers.Name).ToArray()));
        }
        finally
        {
            foreach (var t in parts) t.Dispose();
        }
    }

    private const int MinConvBatch = 16;

    /// <summary>The class a conditional model samples for a seed: --class, else seed mod classes (−1 when unconditional).</summary>
    public static int ClassOfSeed(DiffusionConfig c, SampleOptions o, long seed) =>
        c.LabelDim == 0 ? -1 : o.ClassIndex ?? IClassConditionalSampler.SeedClass(seed, c.LabelDim);

    private static Tensor KeepFirst(Tensor all, int n)
    {
        Tensor first = all.narrow(0, 0, n).clone();
        all.Dispose();
        return first;
    }

    private static Tensor SampleBatch(IEdmDenoiser model, IReadOnlyList<long> seeds, SampleOptions o, int[] steps, CancellationToken cancel)
    {
        DiffusionConfig c = model.Config;
        var gens = seeds.Select(s => new Generator(unchecked((ulong)s))).ToList();
        try
        {
            using var scope = NewDisposeScope();
            int b = seeds.Count;
            Tensor? prev = null; // detached sampler output of the last stage (HeunSampler returns owned tensors)
            Tensor? labels = null;
            if (c.LabelDim > 0)
            {
                var idx = seeds.Select(s => (long)ClassOfSeed(c, o, s)).ToArray();
                labels = nn.functional.one_hot(tensor(idx), c.LabelDim).to(ScalarType.Float32);
            }
            for (int s = 0; s < c.Stages; s++)
            {
                int r = c.StageResolution(s);
                long[] shape = [b, c.ImgChannels, r, r];
                double[] t;
                Tensor x;
                CascadeInput? stage = null;
                // Stage set-up makes implicit Scalars too (docs/platform.md §6): guard it like a sampler step.
                using (NativeCallGuard.Enter())
                {
                    // edm/generate.py draws latents in float32 and moves them to float64.
                    Tensor z = HeunSampler.PerImageNoise(gens, shape, ScalarType.Float32).to(ScalarType.Float64);
                    if (prev is null)
                    {
                        t = KarrasSchedule.Sigmas(steps[s], c.SigmaMin, c.SigmaMax, c.Rho);
                        x = z.mul(t[0]);
                        if (c.IsCascade) stage = new CascadeInput(null, LowDiffCascade.StageVector(0, c.Stages, zeros(b)), null);
                    }
                    else
                    {
                        t = KarrasSchedule.Sigmas(steps[s], c.SigmaMin, o.SigmaStart, c.Rho);
                        (x, stage) = RefineStart(prev, z, t[0], o.SigmaAug, s, c.Stages, gens);
                    }
                }
                Denoiser d = Guided(model, labels, stage, o.Guidance, b);
                Tensor next = Solvers.Sample(SolverOf(o, s), d, x, t, o.Churn, gens, cancel);
                prev?.Dispose();
                prev = next;
            }
            int pad = (c.Resolution - c.DataResolution) / 2;
            Tensor img = prev!.narrow(2, pad, c.DataResolution).narrow(3, pad, c.DataResolution).to(ScalarType.Float32).contiguous();
            prev.Dispose();
            return img.MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (var g in gens) g.Dispose();
        }
    }

    /// <summary>
    /// The start of LowDiff refine stage <paramref name="stage"/> from the previous stage's output: the
    /// sampler's x = up(prev) + σ₀·z and the network's condition up(prev), noised by σ_aug (fresh per-image
    /// noise drawn after z) when σ_aug > 0. Tensors are owned by the caller's dispose scope.
    /// </summary>
    public static (Tensor X, CascadeInput Stage) RefineStart(Tensor prev, Tensor z, double sigma0, double sigmaAug,
                                                             int stage, int stages, IReadOnlyList<Generator> gens)
    {
        Tensor up = LowDiffCascade.Up(prev);
        Tensor x = up.add(z.mul(sigma0));
        Tensor cond = sigmaAug > 0 ? up.add(HeunSampler.PerImageNoise(gens, z.shape, ScalarType.Float64).mul(sigmaAug)) : up;
        Tensor aug = full([z.shape[0]], sigmaAug, ScalarType.Float32);
        return (x, new CascadeInput(cond.to(ScalarType.Float32), LowDiffCascade.StageVector(stage, stages, aug), aug));
    }

    /// <summary>The denoiser of one stage, with classifier-free guidance as one 2B batch when g ≠ 1.</summary>
    public static Denoiser Guided(IEdmDenoiser net, Tensor? labels, CascadeInput? stage, double guidance, int batch)
    {
        if (labels is null || guidance == 1)
            return (x, sigma) => net.Denoise(x, full([x.shape[0]], sigma, ScalarType.Float64), labels, stage);
        return (x, sigma) =>
        {
            using var scope = NewDisposeScope();
            Tensor x2 = cat([x, x], 0);
            Tensor l2 = cat([labels, zeros_like(labels)], 0);
            CascadeInput? s2 = stage is null ? null : new CascadeInput(
                stage.Cond is null ? null : cat([stage.Cond, stage.Cond], 0),
                stage.StageVector is null ? null : cat([stage.StageVector, stage.StageVector], 0),
                stage.SigmaAug is null ? null : cat([stage.SigmaAug, stage.SigmaAug], 0));
            Tensor d = net.Denoise(x2, full([2L * batch], sigma, ScalarType.Float64), l2, s2);
            Tensor dc = d.narrow(0, 0, batch), du = d.narrow(0, batch, batch);
            return du.add(dc.sub(du).mul(guidance)).MoveToOuterDisposeScope();
        };
    }

    /// <summary>Float images in [−1, 1] → packed uint8 (round(127.5·x + 127.5), clamped), as edm/generate.py saves them.</summary>
    public static byte[] ToBytes(Tensor images)
    {
        using var guard = NativeCallGuard.Enter();
        using var scope = NewDisposeScope();
        return Gen.Pipeline.Data.Batches.ToBytes(images.add(1).div(2));
    }
}
