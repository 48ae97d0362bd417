// The detector's network (docs/methods/detection.md §3): a single logit z with p(fake) = σ(z). It splits
// at the last convolution's ReLU output (before its pool), the layer Grad-CAM explains.
using Gen.Pipeline.Models;
using Gen.Pipeline.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Representation.Detection;

public sealed class DetectorNet : Module<Tensor, Tensor>
{
    private readonly DetectorConfig _config;
    private readonly ModuleList<Module<Tensor, Tensor>> convs = new();
    private readonly ModuleList<Linear> dense = new();
    private readonly Linear? logit;
    private readonly ResNet? resnet;

    public DetectorNet(DetectorConfig config, Generator? init = null) : base(nameof(DetectorNet))
    {
        config.Validate();
        _config = config;
        if (config.Arch == DetectorConfig.ResNetS)
        {
            resnet = new ResNet(config.ResNet!, init);
        }
        else
        {
            long c = config.InChannels;
            foreach (int f in config.Convs) { convs.Add(Conv.Conv2d(c, f, 3)); c = f; }
            long width = c * config.FlatSide * config.FlatSide;
            foreach (int d in config.Dense) { dense.Add(Linear(width, d)); width = d; }
            logit = Linear(width, 1);
            if (init is not null)
            {
                // PyTorch's default init (U(±1/√fan_in)), drawn from the run's generator in layer order.
                foreach (var conv in convs) { var (w, b) = Conv.Parameters(conv); Init.DefaultUniform(w, b, init); }
                foreach (var fc in dense) Init.DefaultUniform(fc.weight!, fc.bias, init);
                Init.DefaultUniform(logit.weight!, logit.bias, init);
            }
        }
        RegisterComponents();
    }

    public DetectorConfig Config => _config;

    public string CamLayer => resnet is not null ? $"layer{_config.ResNet!.Widths.Length}" : $"convs.{convs.Count - 1}";

    /// <summary>The logit z (B) of images in [0,1].</summary>
    public override Tensor forward(Tensor images01)
    {
        using var scope = NewDisposeScope();
        return Head(FeatureMap(images01)).MoveToOuterDisposeScope();
    }

    /// <summary>The last convolution's ReLU output (B×K×u×v).</summary>
    public Tensor FeatureMap(Tensor images01)
    {
        if (resnet is not null) return resnet.FeatureMap(images01);
        using var scope = NewDisposeScope();
        Tensor x = images01;
        for (int i = 0; i < convs.Count; i++)
        {
            x = functional.relu(convs[i].call(x));
            if (i < convs.Count - 1) x = functional.max_pool2d(x, 2);
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The logit (B) from the feature map: the last pool, the dense layers, the output layer.</summary>
    public Tensor Head(Tensor featureMap)
    {
        using var scope = NewDisposeScope();
        Tensor z;
        if (resnet is not null) z = resnet.Head(functional.adaptive_avg_pool2d(featureMap, 1).flatten(1));
        else
        {
            Tensor x = functional.max_pool2d(featureMap, 2).flatten(1);
            foreach (var fc in dense) x = functional.relu(fc.call(x));
            z = logit!.call(x);
        }
        return z.squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>images [0,1] → … → two logits [0, z] (softmax of which is [1−σ(z), σ(z)]).</summary>
    public string WriteOnnx(OnnxGraph g, string input)
    {
        string z;
        if (resnet is not null) z = resnet.WriteOnnx(g, input, "resnet.");
        else
        {
            string x = input;
            for (int i = 0; i < convs.Count; i++)
            {
                var (w, b) = Conv.Parameters(convs[i]);
                x = g.Relu(g.Conv(x, w, b, 1, 0, $"convs.{i}"), $"convs.{i}");
                x = g.MaxPool(x, 2, $"convs.{i}");
            }
            x = g.Flatten(x, "flatten");
            for (int i = 0; i < dense.Count; i++) x = g.Relu(g.Linear(x, dense[i], $"dense.{i}"), $"dense.{i}");
            z = g.Linear(x, logit!, "logit");
        }
        return g.Node("Mul", [z, g.Initializer("two_logits", [0f, 1f], 1, 2)], "two_logits");
    }
}
