// Exponential moving average of a model's weights with the decay given as a half-life in images
// (NVlabs/edm training/training_loop.py): β = 0.5^(batch / h), h = min(h_max, rampup · images_seen).
// Buffers (BatchNorm statistics) are copied, not averaged, as EDM does.
using static TorchSharp.torch;

namespace Gen.Pipeline.Training;

public sealed class Ema : IDisposable
{
    private readonly Dictionary<string, Tensor> _shadow = new(StringComparer.Ordinal);
    private readonly HashSet<string> _parameterNames;

    public Ema(nn.Module model)
    {
        _parameterNames = model.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            Tensor c = t.detach().clone();
            c.DetachFromDisposeScope();
            _shadow[name] = c;
        }
    }

    public static double Beta(int batch, double halfLifeImages, double rampup, long imagesSeen)
    {
        double h = halfLifeImages;
        if (rampup > 0) h = Math.Min(h, rampup * imagesSeen);
        return Math.Pow(0.5, batch / Math.Max(h, 1e-8));
    }

    public void Update(nn.Module model, double beta) => Update(model, _ => beta);

    /// <summary>One EMA step with a decay per tensor name (parts of a model may average at different rates).</summary>
    public void Update(nn.Module model, Func<string, double> betaOf)
    {
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            Tensor s = _shadow[name];
            if (_parameterNames.Contains(name) && t.is_floating_point()) s.lerp_(t.detach(), 1 - betaOf(name));
            else s.copy_(t);
        }
    }

    /// <summary>Restarts the average at the model's current weights (after a warm start).</summary>
    public void Reset(nn.Module model) => Update(model, _ => 0.0);

    public IReadOnlyDictionary<string, Tensor> State => _shadow;

    public void Load(IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = no_grad();
        foreach (var (name, s) in _shadow)
        {
            if (!state.TryGetValue(name, out Tensor? t))
                throw new GenInputException($"resume state lacks EMA tensor '{name}'; the run folder belongs to another model");
            s.copy_(t);
        }
    }

    /// <summary>Copies the averaged weights into <paramref name="model"/>.</summary>
    public void CopyTo(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict()) t.copy_(_shadow[name]);
    }

    public void Dispose()
    {
        foreach (var t in _shadow.Values) t.Dispose();
        _shadow.Clear();
    }
}
