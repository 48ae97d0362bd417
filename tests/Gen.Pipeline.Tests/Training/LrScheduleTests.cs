using Gen.Pipeline.Training;

namespace Gen.Pipeline.Tests.Training;

public sealed class LrScheduleTests
{
    [Fact]
    public void WarmupThenCosine_HandValues()
    {
        var c = new TrainConfig { Lr = 1.0, WarmupSteps = 10, Schedule = LrScheduleKind.Cosine };
        Assert.Equal(0.1, LrSchedule.At(c, 0, 110), 12);        // (0+1)/10
        Assert.Equal(1.0, LrSchedule.At(c, 9, 110), 12);
        Assert.Equal(1.0, LrSchedule.At(c, 10, 110), 12);       // cosine starts at its peak
        Assert.Equal(0.5, LrSchedule.At(c, 60, 110), 12);       // half-way: (1 + cos π/2)/2
        Assert.Equal(0.0, LrSchedule.At(c, 110, 110), 12);
    }

    [Fact]
    public void CosineEndsAtZero_ConstantStays()
    {
        var c = new TrainConfig { Lr = 2.0 };
        Assert.Equal(0.0, LrSchedule.At(c, 100, 100), 12);
        Assert.Equal(1.0, LrSchedule.At(c, 50, 100), 12);
        Assert.Equal(2.0, LrSchedule.At(c with { Schedule = LrScheduleKind.Constant }, 77, 100), 12);
    }
}
