// The module a pretraining run saves: the encoder under "encoder." plus whatever the method adds
// (projector, predictor, head, momentum copies, the Hallucinator "hallucinator.", MoCo's queues as
// buffers). Probes load only the "encoder." keys; the rest is kept so a run resumes exactly.
using Gen.Representation.Encoders;
using static TorchSharp.torch;

namespace Gen.Representation;

public sealed class PretrainNet : nn.Module
{
    public const string EncoderPrefix = "encoder.";

    public PretrainNet(Encoder encoder) : base(nameof(PretrainNet))
    {
        Encoder = encoder;
        register_module("encoder", encoder);
    }

    public Encoder Encoder { get; }

    public T Add<T>(string name, T module) where T : nn.Module
    {
        register_module(name, module);
        return module;
    }

    public Tensor AddBuffer(string name, Tensor value)
    {
        register_buffer(name, value);
        return value;
    }
}
