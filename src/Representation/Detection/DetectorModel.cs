// A detector checkpoint opened as a capability (docs/methods/detection.md): a two-class IClassifier
// (REAL, FAKE) whose logits are [0, z], so softmax gives p(fake) = σ(z) and every classifier verb works
// on it; an IConvClassifier whose Grad-CAM scores are z for FAKE and −z for REAL (p(real) = σ(−z)); and
// an ONNX export with the same two logits.
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;
using static TorchSharp.torch;

namespace Gen.Representation.Detection;

public sealed class DetectorModel(DetectorNet network, DetectorConfig config, string path, long step, bool owns = true)
    : IModel, IConvClassifier, IOnnxImageModel
{
    public const string KindName = "detector";

    public DetectorNet Network => network;
    public DetectorConfig Config => config;
    public string Path => path;
    public long Step => step;
    public string Kind => KindName;
    public string Description => $"detector ({config.Arch}) step {step}";
    public int Channels => config.InChannels;
    public int Height => config.ImageSize;
    public int Width => config.ImageSize;
    public IReadOnlyList<string> ClassNames => DetectionData.ClassNames;
    public int Classes => 2;
    public string TrainingData => config.Dataset;

    public Tensor Logits(Tensor images01)
    {
        using var scope = NewDisposeScope();
        Tensor z = network.call(images01).unsqueeze(1);
        return cat([zeros_like(z), z], 1).MoveToOuterDisposeScope();
    }

    public string CamLayer => network.CamLayer;
    public Tensor CamActivations(Tensor images01) => network.FeatureMap(images01);

    public Tensor CamScores(Tensor activations)
    {
        using var scope = NewDisposeScope();
        Tensor z = network.Head(activations).unsqueeze(1);
        return cat([z.neg(), z], 1).MoveToOuterDisposeScope();
    }

    public string OnnxRole => OnnxModels.ClassifierRole;

    public void WriteOnnx(OnnxGraph g)
    {
        string x = g.Input(OnnxModels.InputName, Channels, Height, Width);
        g.Output(g.Node("Identity", [network.WriteOnnx(g, x)], OnnxModels.OutputName), Classes);
    }

    public Tensor Reference(Tensor input) => Logits(input);

    public static DetectorModel Load(string file)
    {
        var (st, info) = Checkpoint.Open(file, KindName);
        DetectorConfig config = Json.Deserialize<DetectorConfig>(info.ConfigJson, $"the config in '{st.Path}'");
        config.Validate();
        var net = new DetectorNet(config);
        Checkpoint.LoadInto(net, st);
        net.eval();
        return new DetectorModel(net, config, st.Path, info.Step);
    }

    public void Dispose()
    {
        if (owns) network.Dispose();
    }
}
