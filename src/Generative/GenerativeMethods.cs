// The Generative project's registration: one line in the CLI's composition root adds every method it has.
using Gen.Generative.Diffusion;
using Gen.Generative.Jem;
using Gen.Generative.Lzn;
using Gen.Pipeline.Methods;

namespace Gen.Generative;

public static class GenerativeMethods
{
    public static MethodRegistry AddGenerative(this MethodRegistry registry) =>
        registry.Add(new DiffusionTraining()).Add(new JemTraining()).Add(new LznTraining())
                .AddOnnxRole(DenoiserOnnx.Role, DenoiserOnnx.Open, typeof(IImageSampler));
}
