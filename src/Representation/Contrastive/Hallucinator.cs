// The Hallucinator (Wu, Hobbs, Hovakimyan, ICCV 2023, arXiv 2307.12168; mechanism from the authors'
// code, jingwu6/Hallucination-improves-..., models/generator.py and its use in moco/simclr/simsiam;
// docs/methods/representation.md §4, plug-in D-5). It makes an extra positive in embedding space
// from an anchor a (the vector entering the loss, before L2 normalisation) and its partner b (the
// other view at the same layer): e = a + λ(a − b), one λ ~ U(0, λmax) per step, then h = G([a; e])
// with G = Linear(2D,2D) → ReLU → Linear(2D,2D) → ReLU → Linear(2D,D), no norm layers. G has no loss of
// its own: it trains through the method's loss, where h stands in as an extra anchor with a's positive.
using Gen.Pipeline;
using Gen.Pipeline.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Representation.Contrastive;

public sealed record HallucinatorConfig
{
    public const double DefaultLambdaMax = 0.1;   // [HalC] moco.py: λ ~ U(0, 0.1)

    public bool Enabled { get; init; }
    public double LambdaMax { get; init; } = DefaultLambdaMax;

    public void Validate()
    {
        if (!(LambdaMax >= 0) || double.IsInfinity(LambdaMax))
            throw new GenInputException($"--hal-lambda-max must be zero or positive, got {LambdaMax}");
    }
}

public sealed class Hallucinator : Module<Tensor, Tensor>
{
    private readonly Sequential net;

    public Hallucinator(int dim, Generator init) : base(nameof(Hallucinator))
    {
        Dim = dim;
        net = Sequential(("0", Linear(2 * dim, 2 * dim)), ("1", ReLU()), ("2", Linear(2 * dim, 2 * dim)), ("3", ReLU()),
                         ("4", Linear(2 * dim, dim)));
        RegisterComponents();
        foreach (var (_, m) in net.named_children())
            if (m is Linear l) Init.DefaultUniform(l.weight!, l.bias, init);
    }

    public int Dim { get; }

    /// <summary>MACs per hallucinated sample: (2D·2D)·2 + 2D·D = 10·D² (docs/methods/representation.md D-5 item 4).</summary>
    public long MacsPerSample => 10L * Dim * Dim;

    /// <summary>One λ ~ U(0, λmax) from the step's Hallucinator stream.</summary>
    public static double DrawLambda(Generator g, double lambdaMax)
    {
        using Tensor u = rand([1], ScalarType.Float64, generator: g);
        return lambdaMax * u.item<double>();
    }

    /// <summary>e = (1+λ)a − λb: a step away from the partner (the abstract's "reduce the mutual information").</summary>
    public static Tensor Extrapolate(Tensor a, Tensor b, double lambda) => a * (1 + lambda) - b * lambda;

    /// <summary>h = G([a; e]) for anchors a and partners b (both B × D).</summary>
    public Tensor Hallucinate(Tensor a, Tensor b, double lambda)
    {
        using var scope = NewDisposeScope();
        return net.call(cat([a, Extrapolate(a, b, lambda)], 1)).MoveToOuterDisposeScope();
    }

    /// <summary>G applied to the concatenated [a; e] (B × 2D).</summary>
    public override Tensor forward(Tensor aAndE) => net.call(aAndE);
}
