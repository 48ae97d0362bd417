// RotNet's Network-in-Network with four conv blocks (Gidaris et al., ICLR 2018;
// gidariss/FeatureLearningRotNet architectures/NetworkInNetwork.py, num_stages = 4). Each unit is
// conv (no bias) + BN + ReLU. B1: conv5 in→192, 1×1 192→160, 1×1 160→96, max-pool 3/2/1;
// B2: conv5 96→192, 1×1 192→192 ×2, avg-pool 3/2/1; B3, B4: conv3 192→192, 1×1 ×2. The pooled
// feature is the global average of B4 (192-d); the paper's best probe layer is block 2 (192×8×8 at 32 px).
using Gen.Pipeline.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Representation.Encoders;

public sealed class Nin4Encoder : Encoder
{
    public const int Channels = 192;      // nChannels of NetworkInNetwork.py
    private const int Channels2 = 160, Channels3 = 96;

    private readonly Sequential block1, block2, block3, block4;

    public Nin4Encoder(int inChannels, Generator init) : base(nameof(Nin4Encoder))
    {
        block1 = Sequential(("conv_b1", Unit(inChannels, Channels, 5)), ("conv_b2", Unit(Channels, Channels2, 1)),
                            ("conv_b3", Unit(Channels2, Channels3, 1)), ("max_pool", MaxPool2d(3, 2, 1)));
        block2 = Sequential(("conv_b1", Unit(Channels3, Channels, 5)), ("conv_b2", Unit(Channels, Channels, 1)),
                            ("conv_b3", Unit(Channels, Channels, 1)), ("avg_pool", AvgPool2d(3, 2, 1)));
        block3 = Sequential(("conv_b1", Unit(Channels, Channels, 3)), ("conv_b2", Unit(Channels, Channels, 1)),
                            ("conv_b3", Unit(Channels, Channels, 1)));
        block4 = Sequential(("conv_b1", Unit(Channels, Channels, 3)), ("conv_b2", Unit(Channels, Channels, 1)),
                            ("conv_b3", Unit(Channels, Channels, 1)));
        RegisterComponents();
        using var _ = no_grad();
        foreach (var (_, m) in named_modules())
        {
            if (m is TorchSharp.Modules.Conv2d or NarrowConv2d) Init.KaimingNormalFanOut(Conv.Parameters((Module<Tensor, Tensor>)m).Weight, init);
            else if (m is BatchNorm2d bn) { bn.weight!.fill_(1); bn.bias!.zero_(); }
        }
    }

    private static Sequential Unit(long cin, long cout, long k) =>
        Sequential(("conv", Conv.Conv2d(cin, cout, k, padding: (k - 1) / 2, bias: false)), ("bn", BatchNorm2d(cout)), ("relu", ReLU()));

    public override int FeatureDim => Channels;

    protected override int BlockCount => 4;

    /// <summary>Units are conv + BN (folded) + ReLU; block 1 ends in max-pool 3/2/1, block 2 in avg-pool 3/2/1
    /// counting the padding (torch's AvgPool2d default).</summary>
    public override IReadOnlyList<string> WriteBlocksOnnx(Gen.Pipeline.Onnx.OnnxGraph g, string x)
    {
        var outputs = new List<string>();
        string y = x;
        Sequential[] blocks = [block1, block2, block3, block4];
        for (int b = 0; b < blocks.Length; b++)
        {
            foreach (var (name, m) in blocks[b].named_children())
            {
                string p = $"block{b + 1}.{name}";
                y = m switch
                {
                    TorchSharp.Modules.MaxPool2d => g.MaxPool(y, 3, 2, 1, p),
                    TorchSharp.Modules.AvgPool2d => g.AvgPool(y, 3, 2, 1, countPadding: true, p),
                    Sequential unit => WriteUnit(g, unit, y, p),
                    _ => throw new InvalidOperationException($"no ONNX graph for {m.GetType().Name}"),
                };
            }
            outputs.Add(y);
        }
        return outputs;
    }

    private static string WriteUnit(Gen.Pipeline.Onnx.OnnxGraph g, Sequential unit, string x, string prefix)
    {
        var parts = unit.children().ToArray();
        var (w, bias) = Conv.Parameters((Module<Tensor, Tensor>)parts[0]);
        return g.Relu(g.Conv(x, w, bias, 1, (w.shape[2] - 1) / 2, prefix, (BatchNorm2d)parts[1]), prefix);
    }

    protected override Tensor Block(Tensor x, int index)
    {
        using var scope = NewDisposeScope();
        Tensor y = x;
        Sequential[] blocks = [block1, block2, block3, block4];
        for (int b = 0; b < index; b++) y = blocks[b].call(y);
        return y.MoveToOuterDisposeScope();
    }
}
