// The energy model's parts against hand-computed values (docs/methods/jem-at.md §5): energy, the BCE
// energy loss and its gradient signs, the AUC, the T curriculum, p0, and stage 2's frozen BatchNorm.
using Gen.Generative.Jem;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Jem;

public sealed class JemTests
{
    [Fact]
    public void Energy_HandValues()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(-Math.Log(2), JemEnergy.Energy(tensor(new float[,] { { 0, 0 } })).item<float>(), 6);
        // −log(e + e² + e³) = −3.407606
        Assert.Equal(-3.407606, JemEnergy.Energy(tensor(new float[,] { { 1, 2, 3 } })).item<float>(), 5);
        Tensor logits = tensor(new float[,] { { 1, 2, 3 }, { -1, 5, 0 } });
        float[] e = JemEnergy.ClassEnergy(logits, tensor(new long[] { 2, 0 })).data<float>().ToArray();
        Assert.Equal([-3f, 1f], e);
        // Max-shifted: logits near 1e4 give 1e4 + log 2, not infinity.
        float big = JemEnergy.Energy(tensor(new float[,] { { 1e4f, 1e4f } })).item<float>();
        Assert.True(float.IsFinite(big));
        Assert.Equal(-(1e4 + Math.Log(2)), big, 2);
        Assert.Equal(-JemEnergy.Energy(logits).data<float>()[1], JemEnergy.Score(logits).data<float>()[1]);
    }

    [Fact]
    public void Bce_SignAndGradientDirection()
    {
        using var scope = NewDisposeScope();
        Tensor real = tensor(new float[] { 10 }).requires_grad_(true), fake = tensor(new float[] { -10 }).requires_grad_(true);
        Tensor loss = JemEnergy.BceLoss(real, fake);
        Assert.Equal(4.54e-5, loss.item<float>(), 7);   // softplus(−10) = 4.53989e−5
        loss.backward();
        Assert.True(real.grad!.item<float>() < 0);   // an SGD step raises s(real)
        Assert.True(fake.grad!.item<float>() > 0);   // and lowers s(fake)
        Assert.Equal(10.0000454, JemEnergy.BceLoss(tensor(new float[] { -10 }), tensor(new float[] { 10 })).item<float>(), 4);
    }

    [Fact]
    public void Auc_HandCase()
    {
        using var scope = NewDisposeScope();
        // Pairs (real, fake): 1>0, 1<2, 2>0, 2=2 (½), 3>0, 3>2 → 4.5/6.
        Assert.Equal(0.75, JemEnergy.Auc(tensor(new float[] { 1, 2, 3 }), tensor(new float[] { 0, 2 })), 12);
        Assert.Equal(1.0, JemEnergy.Auc(tensor(new float[] { 5, 6 }), tensor(new float[] { 0, 1 })), 12);
        Assert.Equal(0.0, JemEnergy.Auc(tensor(new float[] { 0 }), tensor(new float[] { 1 })), 12);
    }

    [Fact]
    public void Curriculum_GrowsOncePerFullWindow_NeverBeyondTMax()
    {
        using var c = new CurriculumState(4);
        var ts = new List<int>();
        for (int i = 0; i < 30; i++)
        {
            c.Add(0.9, 0.8, tMax: 5);
            ts.Add(c.T);
        }
        // Every 4th value completes a window: T = 1 after 4, 2 after 8, … capped at 5 from the 20th on.
        for (int i = 0; i < 30; i++) Assert.Equal(Math.Min((i + 1) / 4, 5), ts[i]);
        using var low = new CurriculumState(4);
        for (int i = 0; i < 20; i++) low.Add(0.7, 0.8, tMax: 5);
        Assert.Equal(0, low.T);
        Assert.Equal(4, low.Count);   // a full window below threshold slides
        Assert.Equal(0.7, low.WindowMean, 5);
    }

    [Fact]
    public void P0_ShuffleIsAPermutationOfPatches_NoiseInRange_SeedFixesImage()
    {
        using var scope = NewDisposeScope();
        Tensor img = arange(2 * 16 * 16, ScalarType.Float32).reshape(2, 1, 16, 16).div(512);
        Tensor identity = arange(16, ScalarType.Int64).reshape(1, 16).expand(2, 16);
        Assert.True(P0.ShufflePatches(img, identity).eq(img).all().item<bool>());
        // Swapping patches 0 and 15 of image 0 moves the top-left 4×4 block to the bottom-right.
        var perm = arange(16, ScalarType.Int64).reshape(1, 16).repeat(2, 1);
        perm[0, 0] = 15; perm[0, 15] = 0;
        Tensor s = P0.ShufflePatches(img, perm);
        Assert.True(s[0, 0, TensorIndex.Slice(12, 16), TensorIndex.Slice(12, 16)].eq(img[0, 0, TensorIndex.Slice(0, 4), TensorIndex.Slice(0, 4)]).all().item<bool>());
        Assert.True(s[1].eq(img[1]).all().item<bool>());
        Assert.True(s.flatten().sort().Values.eq(img.flatten().sort().Values).all().item<bool>());

        using var g = new Generator(1);
        Tensor noise = P0.Noise(4, 1, 28, 28, g);
        Assert.True(noise.min().item<float>() >= 0 && noise.max().item<float>() <= 1);
        Assert.True(noise.std().item<float>() > 0.05);
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        var data = TinyData.Squares(8, 16);
        Assert.True(P0.One(g1, data, 1, 16, 16).eq(P0.One(g2, data, 1, 16, 16)).all().item<bool>());
    }

    private static JemConfig Config(string stage) => new()
    {
        Stage = stage, ImageSize = 16, Classes = 2, ClassNames = ["a", "b"], Mean = [0.2], Std = [0.3],
        AttackSteps = 2, AttackStepSize = 0.5, AucWindow = 2, TMax = 3,
    };

    [Fact]
    public void Stage2_BatchNormStatisticsFrozen_AffineTrains_BatchOrderIrrelevant()
    {
        using var scope = NewDisposeScope();
        using var init = new Generator(0);
        using var method = new JemMethod(Config(JemConfig.Stage2), init);
        var net = method.Network;
        var bnState = net.state_dict().Where(kv => kv.Key.Contains("bn") && !kv.Key.EndsWith("weight") && !kv.Key.EndsWith("bias"))
                         .ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var affine = net.state_dict().Where(kv => kv.Key.Contains("bn") && kv.Key.EndsWith("weight")).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        Assert.NotEmpty(bnState);
        var data = TinyData.Squares(16, 16);
        using var sgd = optim.SGD(net.parameters(), 0.05);
        for (int step = 0; step < 3; step++)
        {
            using var g = new Generator((ulong)step);
            net.train();   // as the Trainer does before every step; the method freezes BN itself
            var batch = new Batch(Gen.Pipeline.Data.Batches.Float(data, Enumerable.Range(0, 16).ToArray()),
                                  Gen.Pipeline.Data.Batches.Labels(data, Enumerable.Range(0, 16).ToArray()), []);
            var ctx = new StepContext { Step = step, TotalSteps = 3, Lr = 0.05, ImagesSeen = 0, Generator = g };
            StepOutput output = method.Step(batch, ctx);
            sgd.zero_grad();
            output.Loss.backward();
            sgd.step();
        }
        foreach (var (name, before) in bnState) Assert.True(net.state_dict()[name].eq(before).all().item<bool>(), $"{name} changed");
        Assert.Contains(affine, kv => !net.state_dict()[kv.Key].eq(kv.Value).all().item<bool>());

        net.train();
        net.FreezeBatchNorm();
        Tensor x = Gen.Pipeline.Data.Batches.Float(data, Enumerable.Range(0, 16).ToArray());
        Tensor perm = tensor(Enumerable.Range(0, 16).Reverse().Select(i => (long)i).ToArray());
        using var _ = no_grad();
        Tensor a = net.call(x), b = net.call(x.index_select(0, perm)).index_select(0, perm);
        Assert.True(a.sub(b).abs().max().item<float>() <= 1e-6);
    }

    [Fact]
    public void Networks_Shapes_AndWideResNetSize()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(0);
        using var cnn = new JemNetwork(new JemConfig(), g);
        cnn.eval();
        Assert.Equal(new long[] { 3, 10 }, cnn.call(rand(3, 1, 28, 28)).shape);
        Assert.Equal(104_650, cnn.ParameterCount);   // 320 + 18,496 + 73,856 conv, 448 BN, 11,530 linear
        var wrnConfig = new JemConfig { Arch = JemConfig.Wrn16x4, InChannels = 3, ImageSize = 32, Mean = [0.5, 0.5, 0.5], Std = [0.25, 0.25, 0.25] };
        using var wrn = new JemNetwork(wrnConfig, g);
        wrn.eval();
        Assert.Equal(new long[] { 2, 10 }, wrn.call(rand(2, 3, 32, 32)).shape);
        // WRN-16-4 for CIFAR-10 has 2.7 M parameters (Zagoruyko & Komodakis 2016, Table 1).
        Assert.InRange(wrn.ParameterCount, 2_700_000, 2_800_000);
    }

    [Theory]
    [InlineData(JemConfig.CnnS, 1, 28)]
    [InlineData(JemConfig.Wrn16x4, 3, 32)]
    public void OnnxExport_MatchesTorchSharp_WithNonTrivialBatchNorm(string arch, int channels, int size)
    {
        using var tmp = new TempDir();
        var config = new JemConfig { Arch = arch, InChannels = channels, ImageSize = size, Mean = Enumerable.Repeat(0.4, channels).ToArray(), Std = Enumerable.Repeat(0.3, channels).ToArray() };
        using (var g = new Generator(2))
        using (var net = new JemNetwork(config, g))
        using (no_grad())
        {
            // Statistics and affine parameters far from their initial values, so folding them matters.
            foreach (var bn in net.modules().OfType<TorchSharp.Modules.BatchNorm2d>())
            {
                bn.running_mean!.uniform_(-0.5, 0.5, g);
                bn.running_var!.uniform_(0.5, 2.0, g);
                bn.weight!.uniform_(0.5, 1.5, g);
                bn.bias!.uniform_(-0.2, 0.2, g);
            }
            Gen.Pipeline.Checkpoints.Checkpoint.Save(tmp.File("jem.safetensors"), net, JemMethod.KindName, Gen.Pipeline.Json.Serialize(config, indented: false), 7);
        }
        using var model = JemModel.Load(tmp.File("jem.safetensors"));
        var report = Gen.Pipeline.Onnx.OnnxModels.Export(model, model, tmp.File("jem.safetensors"), tmp.File("jem.onnx"));
        Assert.True(report.MaxRelativeError <= 1e-5, $"relative error {report.MaxRelativeError:G3}");
        Assert.True(report.MaxAbsError > 0 || report.MaxRelativeError == 0);
    }

    [Fact]
    public void Stage1_UsesBatchStatistics()
    {
        using var scope = NewDisposeScope();
        using var init = new Generator(0);
        using var method = new JemMethod(Config(JemConfig.Stage1), init);
        var before = method.Network.state_dict().First(kv => kv.Key.EndsWith("running_mean")).Value.clone();
        var data = TinyData.Squares(8, 16);
        using var g = new Generator(1);
        method.Network.train();
        var batch = new Batch(Gen.Pipeline.Data.Batches.Float(data, Enumerable.Range(0, 8).ToArray()),
                              Gen.Pipeline.Data.Batches.Labels(data, Enumerable.Range(0, 8).ToArray()), []);
        method.Step(batch, new StepContext { Step = 0, TotalSteps = 1, Lr = 0.1, ImagesSeen = 0, Generator = g });
        Assert.False(method.Network.state_dict().First(kv => kv.Key.EndsWith("running_mean")).Value.eq(before).all().item<bool>());
    }
}
