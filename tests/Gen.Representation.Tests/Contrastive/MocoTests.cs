using Gen.Pipeline;
using Gen.Pipeline.Training;
using Gen.Representation.Contrastive;
using Gen.Representation.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Contrastive;

public sealed class MocoTests
{
    // docs/methods/representation.md §7 check 2: K = 8, B = 4, D = 2.
    private static PretrainConfig Config(int queue = 8) => new()
    {
        Method = PretrainMethodKind.Mocov2,
        Encoder = new EncoderConfig { Arch = EncoderArch.Resnet10s, InChannels = 1 },
        Mean = [0.5], Std = [0.25], ImageSize = 12,
        ProjectorHidden = 8, ProjectorOut = 2, QueueSize = queue,
    };

    private static Tensor Keys(int seed) => nn.functional.normalize(randn([2, 4, 2], generator: new Generator((ulong)seed)), dim: 2);

    [Fact]
    public void Enqueue_FillsAtPointer_WrapsAndOverwrites()
    {
        using var m = new MocoMethod(Config(), seed: 0);
        Tensor k1 = Keys(1), k2 = Keys(2), k3 = Keys(3);
        Tensor before = m.Queue.clone();
        Assert.True(m.Queue.norm(dim: 1).allclose(ones(2, 8), atol: 1e-5), "initial columns are unit vectors");

        m.Enqueue(k1);
        Assert.Equal(4, m.QueuePointer);
        Assert.True(m.Queue.narrow(2, 0, 4).Same(k1.transpose(1, 2)));
        Assert.True(m.Queue.narrow(2, 4, 4).Same(before.narrow(2, 4, 4)));

        m.Enqueue(k2);
        Assert.Equal(0, m.QueuePointer);
        Assert.True(m.Queue.narrow(2, 4, 4).Same(k2.transpose(1, 2)));

        m.Enqueue(k3);
        Assert.Equal(4, m.QueuePointer);
        Assert.True(m.Queue.narrow(2, 0, 4).Same(k3.transpose(1, 2)));
        Assert.True(m.Queue.narrow(2, 4, 4).Same(k2.transpose(1, 2)));
    }

    [Fact]
    public void Step_UsesQueueFromBeforeTheEnqueue_ThenAfterStepEnqueuesUnitKeys()
    {
        using var m = new MocoMethod(Config(), seed: 0);
        Tensor images = rand([4, 1, 12, 12], generator: new Generator(5));
        var batch = new Batch(images, zeros(4, ScalarType.Int64), [0, 1, 2, 3]);
        using var g = new Generator(6);
        var ctx = new StepContext { Step = 0, TotalSteps = 10, Lr = 0.1, ImagesSeen = 0, Generator = g };
        Tensor before = m.Queue.clone();
        m.Model.train();
        var output = m.Step(batch, ctx);
        Assert.True(m.Queue.Same(before), "Step must not touch the queue");
        Assert.True(double.IsFinite(output.Loss.item<float>()));
        m.AfterStep(ctx);
        Assert.Equal(4, m.QueuePointer);
        Assert.False(m.Queue.narrow(2, 0, 4).Same(before.narrow(2, 0, 4)));
        Assert.True(m.Queue.narrow(2, 0, 4).norm(dim: 1).allclose(ones(2, 4), atol: 1e-5));
    }

    [Fact]
    public void MomentumUpdate_ZeroTowardsOne()
    {
        using var online = nn.Linear(3, 2);
        using var momentum = nn.Linear(3, 2);
        using (no_grad())
        {
            foreach (var p in online.parameters()) p.fill_(1);
            foreach (var p in momentum.parameters()) p.fill_(0);
        }
        MocoMethod.MomentumUpdate(online, momentum, 0.99);
        Assert.All(momentum.parameters(), p => Assert.True(p.allclose(full_like(p, 0.01), atol: 1e-7)));
    }

    [Fact]
    public void MomentumSchedule_CosineFromTau0ToTau1()
    {
        Assert.Equal(0.99, MocoMethod.MomentumAt(0.99, 0.999, 0, 1000), 1e-12);
        Assert.Equal(0.9945, MocoMethod.MomentumAt(0.99, 0.999, 500, 1000), 1e-12);
        Assert.Equal(0.999, MocoMethod.MomentumAt(0.99, 0.999, 1000, 1000), 1e-12);
    }

    [Fact]
    public void QueueNotMultipleOfBatch_Rejected()
    {
        var e = Assert.Throws<GenInputException>(() => Config().ValidateBatch(3));
        Assert.Contains("--batch", e.Message);
        Config().ValidateBatch(4);
    }

    [Fact]
    public void MomentumCopies_StartEqual_AndAreNotTrained()
    {
        using var m = new MocoMethod(Config(), seed: 0);
        var state = m.Net.state_dict();
        foreach (var (name, t) in state.Where(kv => kv.Key.StartsWith("encoder.", StringComparison.Ordinal)))
            Assert.True(t.Same(state["momentum_" + name]), name);
        var trained = m.ParamGroups().SelectMany(g => g.Params).Select(p => p.Name).ToList();
        Assert.DoesNotContain(trained, n => n.StartsWith("momentum_", StringComparison.Ordinal));
        Assert.Contains(trained, n => n.StartsWith("projector.", StringComparison.Ordinal));
    }
}
