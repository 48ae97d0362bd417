// PGD robustness of any IClassifier (docs/methods/jem-at.md §2 "Robust evaluation"): clean accuracy and accuracy under a
// white-box PGD attack, per threat radius. An image counts as robust when it is classified correctly
// clean and after every restart of the attack (the first restart starts at x, later ones at a uniform
// point of the ball, Madry et al. 2018).
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

public sealed record RobustRow(string Threat, double Eps, int Steps, double StepSize, int Restarts, double Accuracy);

public sealed record RobustReport(int Count, double CleanAccuracy, IReadOnlyList<RobustRow> Rows);

public static class Robustness
{
    /// <summary>Evaluates <paramref name="attacks"/> on the first images of <paramref name="data"/> (labelled).</summary>
    public static RobustReport Evaluate(IClassifier model, ImageSet data, IReadOnlyList<PgdAttack> attacks, int restarts = 1,
                                        int batchSize = 250, long seed = 0, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        ClassifierEval.CheckCompatible(model, data);
        if (restarts < 1) throw new GenInputException($"--restarts must be at least 1, got {restarts}");
        foreach (var a in attacks) a.Validate();
        int[] labelled = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] >= 0 && data.Labels[i] < model.Classes).ToArray();
        if (labelled.Length == 0)
            throw new GenInputException($"'{data.Name}' has no labels in 0..{model.Classes - 1}; robustness needs labelled images of the classifier's classes");

        int clean = 0;
        var robust = new int[attacks.Count];
        using var generator = new Generator((ulong)seed);
        int done = 0;
        foreach (int[] part in Batches.Sequential(labelled.Length, batchSize))
        {
            cancel.ThrowIfCancellationRequested();
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            int[] idx = part.Select(i => labelled[i]).ToArray();
            Tensor x = Batches.Float(data, idx), y = Batches.Labels(data, idx);
            Tensor ok;
            using (no_grad()) ok = model.Logits(x).argmax(1).eq(y);
            clean += (int)ok.sum().item<long>();
            for (int k = 0; k < attacks.Count; k++)
            {
                Tensor still = ok.clone();
                for (int r = 0; r < restarts; r++)
                {
                    Tensor adv = Pgd.Run(model.Logits, x, y, attacks[k] with { RandomStart = r > 0 }, generator);
                    using (no_grad()) still = still.logical_and(model.Logits(adv).argmax(1).eq(y));
                }
                robust[k] += (int)still.sum().item<long>();
            }
            done += idx.Length;
            log?.Report($"robustness: {done}/{labelled.Length} images");
        }
        int n = labelled.Length;
        var rows = attacks.Select((a, k) => new RobustRow(PgdAttack.Name(a.Threat), a.Eps, a.Steps, a.StepSize, restarts, (double)robust[k] / n)).ToList();
        return new RobustReport(n, (double)clean / n, rows);
    }
}
