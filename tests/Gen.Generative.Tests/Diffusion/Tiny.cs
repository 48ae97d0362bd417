// Tiny diffusion configurations for tests: 8×8 (data 6×6 padded by 1), width 16 (the smallest safe
// width, see UNetConfig.Validate), two levels of 16 channels.
using Gen.Generative.Diffusion;

namespace Gen.Generative.Tests.Diffusion;

internal static class Tiny
{
    public static UNetConfig Net => new() { ModelChannels = 16, ChannelMult = [1, 1], NumBlocks = 1, AttnLevels = [1] };

    public static DiffusionConfig Config(int labelDim = 0, int[]? cascade = null) => new()
    {
        Net = Net,
        Resolution = 8,
        DataResolution = 6,
        LabelDim = labelDim,
        Cascade = cascade ?? [],
        StageProbs = cascade is null ? [] : Enumerable.Repeat(1.0, cascade.Length).ToArray(),
        StageLossWeights = cascade is null ? [] : Enumerable.Repeat(1.0, cascade.Length).ToArray(),
    };
}
