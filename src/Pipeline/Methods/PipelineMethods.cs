// The foundation's registration: the classifier method and the capability stages that work with any
// method (sample, eval-classifier).
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Stages;

namespace Gen.Pipeline.Methods;

public static class PipelineMethods
{
    public static MethodRegistry AddPipeline(this MethodRegistry registry) =>
        registry.Add(new ClassifierTraining()).Add(new SampleStage(registry)).Add(new EvalClassifierStage(registry)).Add(new RobustStage(registry));
}
