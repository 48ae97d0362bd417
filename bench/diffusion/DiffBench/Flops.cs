// Analytic forward FLOPs of the SongUNet (2 per multiply-add) walking the same construction loops as
// src/Generative/Diffusion/UNet.cs: convolutions, attention (qkv, QKᵀ, AV, proj) and the skip 1×1s.
// Norms, activations and the embedding MLP are left out (< 1%).
using Gen.Generative.Diffusion;

public static class Flops
{
    private static double Block(long cin, long cout, int resOut, bool attn)
    {
        double r2 = (double)resOut * resOut;
        double f = 2.0 * cin * cout * 9 * r2 + 2.0 * cout * cout * 9 * r2;
        if (cin != cout) f += 2.0 * cin * cout * r2;
        if (attn) f += 2.0 * cout * 3 * cout * r2 + 2.0 * cout * cout * r2 + 4.0 * r2 * r2 * cout;
        return f;
    }

    private static double Resample(long c, int resOut) => Block(c, c, resOut, false) + 2.0 * c * c * resOut * resOut; // skip 1×1 with up/down

    /// <summary>Forward FLOPs for one image at resolution r.</summary>
    public static double Forward(UNetConfig cfg, int r)
    {
        int C = cfg.ModelChannels, L = cfg.ChannelMult.Length;
        double f = 0;
        long cout = cfg.InChannels;
        var skips = new List<long>();
        for (int level = 0; level < L; level++)
        {
            int res = r >> level;
            if (level == 0) { f += 2.0 * cout * C * 9 * res * res; cout = C; }
            else f += Resample(cout, res);
            skips.Add(cout);
            for (int i = 0; i < cfg.NumBlocks; i++)
            {
                long cin = cout; cout = (long)C * cfg.ChannelMult[level];
                f += Block(cin, cout, res, cfg.AttnLevels.Contains(level));
                skips.Add(cout);
            }
        }
        for (int level = L - 1; level >= 0; level--)
        {
            int res = r >> level;
            if (level == L - 1) f += Block(cout, cout, res, true) + Block(cout, cout, res, false);
            else f += Resample(cout, res);
            for (int i = 0; i <= cfg.NumBlocks; i++)
            {
                long cin = cout + skips[^1]; skips.RemoveAt(skips.Count - 1);
                cout = (long)C * cfg.ChannelMult[level];
                f += Block(cin, cout, res, i == cfg.NumBlocks && cfg.AttnLevels.Contains(level));
            }
            if (level == 0) f += 2.0 * cout * cfg.OutChannels * 9 * res * res;
        }
        return f;
    }
}
