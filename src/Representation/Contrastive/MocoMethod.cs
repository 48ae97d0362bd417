// MoCo v2 in solo-learn's symmetric "v2+" form (He et al. 2020, Chen et al. 2020; [solo]
// methods/mocov2plus.py, utils/momentum.py): query encoder + projector, momentum copies updated after
// every step with θk ← τθk + (1−τ)θq, τ cosine-ramped from τ0 to τ1; one queue of unit keys per view
// (D × K buffers, so checkpoints and resume carry them). L = ½(ℓ(q1,k2,Q2) + ℓ(q2,k1,Q1)) against the
// queues as they were before this step; the keys are enqueued after the update, at the pointer, which
// then moves to (ptr + B) mod K (K % B = 0, batches drop-last). No shuffle-BN (it does nothing on one
// device). With the Hallucinator: h = G(q, k̂_other) joins each direction, ½(ℓ(q,..) + ℓ(h,..)) (docs/methods/representation.md D-5).
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using Gen.Representation.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Representation.Contrastive;

public sealed class MocoMethod : PretrainMethod
{
    private readonly Sequential _projector;
    private readonly Encoder _momentumEncoder;
    private readonly Sequential _momentumProjector;
    private readonly Tensor _queue;      // 2 × D × K: [0] keys of view 1, [1] keys of view 2
    private readonly Tensor _queuePtr;   // int64 [1]
    private Tensor? _pendingKeys;        // 2 × B × D unit keys of this step, enqueued in AfterStep

    public MocoMethod(PretrainConfig config, long seed) : base(config, seed)
    {
        _projector = Net.Add("projector", Heads.Projector(config.Encoder.FeatureDim, config.ProjectorHidden, config.ProjectorOut, Init));
        using (var scratch = new Generator(0))
        {
            _momentumEncoder = Net.Add("momentum_encoder", config.Encoder.Create(scratch));
            _momentumProjector = Net.Add("momentum_projector", Heads.Projector(config.Encoder.FeatureDim, config.ProjectorHidden, config.ProjectorOut, scratch));
        }
        CopyInto(Net.Encoder, _momentumEncoder);
        CopyInto(_projector, _momentumProjector);
        using (var qg = new Generator(SplitMix.Mix(seed, QueueStream)))
        using (no_grad())
            _queue = Net.AddBuffer("queue", nn.functional.normalize(randn([2, config.ProjectorOut, config.QueueSize], generator: qg), dim: 1));
        _queuePtr = Net.AddBuffer("queue_ptr", zeros(1, ScalarType.Int64));
        AddHallucinatorIfEnabled(config.LossDim);
    }

    /// <summary>Current queue (2 × D × K) and pointer, for tests.</summary>
    internal Tensor Queue => _queue;
    internal long QueuePointer => _queuePtr.item<long>();

    /// <summary>τ(t) = τ1 − (τ1 − τ0)(cos(πt/T) + 1)/2 ([solo] momentum.py update_tau).</summary>
    public static double MomentumAt(double tau0, double tau1, long step, long totalSteps) =>
        tau1 - (tau1 - tau0) * (Math.Cos(Math.PI * step / Math.Max(totalSteps, 1)) + 1) / 2;

    /// <summary>θk ← τθk + (1−τ)θq over the parameters (buffers keep their own BN statistics, as [solo]).</summary>
    public static void MomentumUpdate(nn.Module online, nn.Module momentum, double tau)
    {
        using var _ = no_grad();
        var q = online.parameters().ToList();
        var k = momentum.parameters().ToList();
        if (q.Count != k.Count) throw new ArgumentException("online and momentum networks differ");
        for (int i = 0; i < q.Count; i++) k[i].mul_(tau).add_(q[i], 1 - tau);
    }

    private static void CopyInto(nn.Module from, nn.Module to)
    {
        using var _ = no_grad();
        var src = from.state_dict();
        foreach (var (name, t) in to.state_dict()) t.copy_(src[name]);
        foreach (var p in to.parameters()) p.requires_grad = false;
    }

    public override StepOutput Step(Batch batch, StepContext ctx)
    {
        Tensor x1 = Views.Contrastive(batch.Images, Config, ctx.Generator);
        Tensor x2 = Views.Contrastive(batch.Images, Config, ctx.Generator);
        Tensor q1 = _projector.call(Net.Encoder.call(x1));
        Tensor q2 = _projector.call(Net.Encoder.call(x2));
        Tensor k1, k2;
        using (no_grad())
        {
            k1 = nn.functional.normalize(_momentumProjector.call(_momentumEncoder.call(x1)), dim: 1);
            k2 = nn.functional.normalize(_momentumProjector.call(_momentumEncoder.call(x2)), dim: 1);
        }
        Tensor queue1 = _queue[0], queue2 = _queue[1];
        double tau = Config.Temperature;
        Tensor l1 = Losses.MocoInfoNce(q1, k2, queue2, tau);
        Tensor l2 = Losses.MocoInfoNce(q2, k1, queue1, tau);
        var metrics = new Dictionary<string, Tensor> { ["z_std"] = Losses.NormalizedStd(q1) };
        if (Hallucinator is { } g)
        {
            double lambda = Lambda(ctx);
            Tensor h1 = g.Hallucinate(q1, k2, lambda), h2 = g.Hallucinate(q2, k1, lambda);
            Tensor lh1 = Losses.MocoInfoNce(h1, k2, queue2, tau), lh2 = Losses.MocoInfoNce(h2, k1, queue1, tau);
            metrics["loss_real"] = ((l1 + l2) * 0.5).detach();
            metrics["loss_hal"] = ((lh1 + lh2) * 0.5).detach();
            metrics["lambda"] = tensor((float)lambda);
            l1 = (l1 + lh1) * 0.5;
            l2 = (l2 + lh2) * 0.5;
        }
        _pendingKeys = stack([k1, k2], 0);
        metrics["tau_momentum"] = tensor((float)MomentumAt(Config.MomentumBase, Config.MomentumFinal, ctx.Step, ctx.TotalSteps));
        return new StepOutput((l1 + l2) * 0.5, metrics);
    }

    public override void AfterStep(StepContext ctx)
    {
        double tau = MomentumAt(Config.MomentumBase, Config.MomentumFinal, ctx.Step, ctx.TotalSteps);
        MomentumUpdate(Net.Encoder, _momentumEncoder, tau);
        MomentumUpdate(_projector, _momentumProjector, tau);
        if (_pendingKeys is { } keys) Enqueue(keys);
        _pendingKeys = null;
    }

    /// <summary>Writes 2 × B × D unit keys into the queues at the pointer and advances it by B (mod K).</summary>
    internal void Enqueue(Tensor keys)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long b = keys.shape[1], k = _queue.shape[2];
        if (k % b != 0) throw new Gen.Pipeline.GenInputException($"MoCo's queue length {k} is not a multiple of the batch {b}");
        long ptr = _queuePtr.item<long>();
        _queue.narrow(2, ptr, b).copy_(keys.transpose(1, 2));
        _queuePtr.fill_((ptr + b) % k);
    }
}
