// Training defaults per method and encoder. Small encoders follow the CPU recipe of
// docs/methods/representation.md §6 ([lightly] style, D-10): SGD momentum 0.9, wd 5e-4, cosine, no warm-up,
// lr = 0.06·B/128 (RotNet 0.1 with Nesterov at 128 images = 512 rotated inputs, [Rot] config), 15 epochs.
// SimSiam departs from D-10 for a measured reason (D-11): [solo]'s cifar setting (SGD 0.5·B/256, wd 1e-5, constant
// predictor LR) instead of 0.06 / 5e-4 gave 83.06 vs 79.87 ± 0.28 linear at 5 epochs and 84.18 vs 82.73
// at 15 (seed 0; bench/RESULTS.md "Representation"). ResNet-18 follows §3 ([solo] cifar yamls):
// SimCLR LARS 0.4·B/256 (η 0.02, clip, biases and norms excluded, wd 1e-4), MoCo v2+ SGD 0.3·B/256 wd 1e-4,
// SimSiam SGD 0.5·B/256 wd 1e-5, 10 warm-up epochs; 200 epochs ([lightly]'s benchmark length; solo trains 1000).
using Gen.Pipeline.Training;
using Gen.Representation.Encoders;

namespace Gen.Representation;

public static class Recipes
{
    public const int DefaultEpochsCpu = 15;           // §6: 15 epochs fit the 30-minute CPU budget
    // RotNet feeds 4 rotated copies of each image, so an epoch costs about 2.6× a SimCLR epoch (bench/representation,
    // interleaved throughput); 10 epochs keep it inside the same budget.
    public const int RotNetEpochsCpu = 10;
    public const int DefaultEpochsGpu = 200;

    /// <summary>Default batch size (images per step) of a method's recipe.</summary>
    public static int Batch(PretrainMethodKind method) => method == PretrainMethodKind.Rotnet ? 128 : 256;

    /// <summary>Warm-up epochs of the recipe (converted to steps once the dataset size is known).</summary>
    public static double WarmupEpochs(PretrainMethodKind method, EncoderArch arch) =>
        arch == EncoderArch.Resnet18 && method is PretrainMethodKind.Simclr or PretrainMethodKind.Mocov2 or PretrainMethodKind.Simsiam ? 10 : 0;

    /// <summary>
    /// The recipe for (method, encoder) at a batch size (warm-up: <see cref="WarmupEpochs"/>).
    /// Threads: 1 on ≤ 2 cores (docs/methods/representation.md D-8: under load two intra-op threads were 2–20× slower), else libtorch's choice.
    /// </summary>
    public static TrainConfig Train(PretrainMethodKind method, EncoderArch arch, int batch)
    {
        bool big = arch == EncoderArch.Resnet18;
        var c = new TrainConfig
        {
            Epochs = big ? DefaultEpochsGpu : method == PretrainMethodKind.Rotnet ? RotNetEpochsCpu : DefaultEpochsCpu,
            Batch = batch,
            Optimizer = OptimizerKind.Sgd,
            Momentum = 0.9,
            Nesterov = false,
            WeightDecay = 5e-4,
            Schedule = LrScheduleKind.Cosine,
            WarmupSteps = 0,
        };
        if (!big)
        {
            return method switch
            {
                PretrainMethodKind.Simsiam => c with { Lr = 0.5 * batch / 256, WeightDecay = 1e-5 },
                PretrainMethodKind.Rotnet or PretrainMethodKind.Supervised => c with { Lr = 0.1 * batch / 128, Nesterov = true },
                _ => c with { Lr = 0.06 * batch / 128 },
            };
        }
        return method switch
        {
            PretrainMethodKind.Simclr => c with { Optimizer = OptimizerKind.Lars, Lr = 0.4 * batch / 256, WeightDecay = 1e-4, LarsEta = 0.02, LarsClip = true },
            PretrainMethodKind.Mocov2 => c with { Lr = 0.3 * batch / 256, WeightDecay = 1e-4 },
            PretrainMethodKind.Simsiam => c with { Lr = 0.5 * batch / 256, WeightDecay = 1e-5 },
            _ => c with { Lr = 0.1 * batch / 128, Nesterov = true },
        };
    }
}
