// Learning rate as a pure function of the step (nanoGPT's get_lr shape): linear warm-up from 0 over
// WarmupSteps, then cosine decay to zero at the last step (Loshchilov & Hutter 2017, SGDR, eq. 5
// without restarts, η_min = 0), or constant.
namespace Gen.Pipeline.Training;

public static class LrSchedule
{
    public static double At(TrainConfig c, long step, long totalSteps)
    {
        if (c.WarmupSteps > 0 && step < c.WarmupSteps)
            return c.Lr * (step + 1) / c.WarmupSteps;
        if (c.Schedule == LrScheduleKind.Constant) return c.Lr;
        long decaySteps = Math.Max(1, totalSteps - c.WarmupSteps);
        double progress = Math.Clamp((double)(step - c.WarmupSteps) / decaySteps, 0, 1);
        return 0.5 * c.Lr * (1 + Math.Cos(Math.PI * progress));
    }
}
