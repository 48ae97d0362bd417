// Projection and prediction heads (docs/methods/representation.md §3.2–§3.4, §6). Names follow the
// reference Sequentials ([solo] simclr.py / mocov2plus.py / simsiam.py: projector.0, .1, ...), so keys
// read like solo's. Linear layers start from PyTorch's default U(±1/√fan_in), drawn from the run's
// init generator; BatchNorm starts at weight 1, bias 0.
using Gen.Pipeline.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Representation.Contrastive;

public static class Heads
{
    /// <summary>SimCLR / MoCo v2+ projector: Linear(in, hidden) → ReLU → Linear(hidden, out), no BN.</summary>
    public static Sequential Projector(int input, int hidden, int output, Generator init) =>
        Initialized(Sequential(("0", Linear(input, hidden)), ("1", ReLU()), ("2", Linear(hidden, output))), init);

    /// <summary>
    /// SimSiam projector: [Linear(no bias) → BN → ReLU] × (layers − 1) → Linear → BN(affine = false).
    /// Three layers as [solo] simsiam.py for ResNet-18; two on the CPU recipe (docs/methods/representation.md §6).
    /// </summary>
    public static Sequential SimSiamProjector(int input, int hidden, int output, int layers, Generator init)
    {
        var list = new List<(string, Module<Tensor, Tensor>)>();
        int i = 0, width = input;
        for (int l = 0; l < layers - 1; l++)
        {
            list.Add(($"{i++}", Linear(width, hidden, hasBias: false)));
            list.Add(($"{i++}", BatchNorm1d(hidden)));
            list.Add(($"{i++}", ReLU()));
            width = hidden;
        }
        list.Add(($"{i++}", Linear(width, output)));
        list.Add(($"{i}", BatchNorm1d(output, affine: false)));
        return Initialized(Sequential(list), init);
    }

    /// <summary>SimSiam predictor: Linear(dim, hidden, no bias) → BN → ReLU → Linear(hidden, dim).</summary>
    public static Sequential SimSiamPredictor(int dim, int hidden, Generator init) =>
        Initialized(Sequential(("0", Linear(dim, hidden, hasBias: false)), ("1", BatchNorm1d(hidden)), ("2", ReLU()),
                               ("3", Linear(hidden, dim))), init);

    /// <summary>A linear classifier (RotNet's 4-way head, the supervised ceiling's head).</summary>
    public static Linear Classifier(int input, int classes, Generator init)
    {
        var l = Linear(input, classes);
        Init.DefaultUniform(l.weight!, l.bias, init);
        return l;
    }

    private static Sequential Initialized(Sequential s, Generator init)
    {
        using var _ = no_grad();
        foreach (var (_, m) in s.named_children())
        {
            if (m is Linear l) Init.DefaultUniform(l.weight!, l.bias, init);
            else if (m is BatchNorm1d bn && bn.weight is not null) { bn.weight.fill_(1); bn.bias!.zero_(); }
        }
        return s;
    }
}
