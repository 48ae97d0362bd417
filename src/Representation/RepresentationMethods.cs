// The Representation project's registration: one line in the CLI's composition root adds every method
// it has (the pretraining methods, the supervised ceiling, the real-vs-fake detector) and its probe stage.
using Gen.Pipeline.Methods;
using Gen.Representation.Probes;

namespace Gen.Representation;

public static class RepresentationMethods
{
    public static MethodRegistry AddRepresentation(this MethodRegistry registry)
    {
        foreach (var kind in Enum.GetValues<PretrainMethodKind>()) registry.Add(new PretrainTraining(kind));
        registry.Add(new Detection.DetectorTraining());
        registry.AddOnnxRole(Encoders.EncoderOnnx.Role, Encoders.EncoderOnnx.Open, typeof(IEncoder));
        return registry.Add(new ProbeStage(registry));
    }
}
