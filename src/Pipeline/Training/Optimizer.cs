// SGD (momentum, Nesterov), Adam and AdamW with the exact update rules of torch.optim (PyTorch 1.13
// sgd.py, adam.py, adamw.py; single-tensor path). Written here rather than taken from TorchSharp's
// optimizers so that the state (moments, step) is plain named tensors that go into the run's
// safetensors resume file, and so that later optimizers (LARS) share one code path. Parity with
// torch is checked by tests against a committed fixture made by tests/fixtures/make_optim_fixture.py.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Pipeline.Training;

/// <summary>A named group of parameters with its own weight decay and LR multiplier.</summary>
/// <remarks>FixedLr: the group ignores the schedule and keeps the peak LR (SimSiam's predictor, docs/methods/representation.md §3.4).</remarks>
public sealed record ParamGroupSpec(string Name, IReadOnlyList<(string Name, Parameter Param)> Params,
                                    double? WeightDecay = null, double LrScale = 1.0, bool FixedLr = false);

public sealed class Optimizer : IDisposable
{
    private readonly TrainConfig _c;
    private readonly List<(ParamGroupSpec Group, string Name, Parameter P)> _params = [];
    private readonly Dictionary<string, Tensor> _state = new(StringComparer.Ordinal);

    public Optimizer(TrainConfig config, IReadOnlyList<ParamGroupSpec> groups)
    {
        _c = config;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in groups)
            foreach (var (name, p) in g.Params)
            {
                if (!seen.Add(name)) throw new ArgumentException($"parameter {name} is in two groups");
                _params.Add((g, name, p));
            }
    }

    /// <summary>Number of completed steps (Adam's t).</summary>
    public long StepCount { get; private set; }

    public IEnumerable<Parameter> Parameters => _params.Select(x => x.P);

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, _, p) in _params)
            if (p.grad is not null) p.grad = null;
    }

    public void Step(double lr)
    {
        using var noGrad = no_grad();
        StepCount++;
        foreach (var (group, name, p) in _params)
        {
            using var scope = NewDisposeScope();
            Tensor? grad = p.grad;
            if (grad is null) continue;
            double groupLr = (group.FixedLr ? _c.Lr : lr) * group.LrScale;
            double wd = group.WeightDecay ?? _c.WeightDecay;
            switch (_c.Optimizer)
            {
                case OptimizerKind.Sgd: SgdStep(name, p, grad, groupLr, wd); break;
                case OptimizerKind.Adam: AdamStep(name, p, grad, groupLr, wd, decoupled: false); break;
                case OptimizerKind.AdamW: AdamStep(name, p, grad, groupLr, wd, decoupled: true); break;
                case OptimizerKind.Lars: LarsStep(name, p, grad, groupLr, wd); break;
            }
        }
    }

    private void SgdStep(string name, Parameter p, Tensor grad, double lr, double wd)
    {
        Tensor d = wd != 0 ? grad.add(p, wd) : grad;
        if (_c.Momentum != 0)
        {
            string key = name + ".momentum_buffer";
            if (!_state.TryGetValue(key, out Tensor? buf))
            {
                buf = d.detach().clone();
                buf.DetachFromDisposeScope();
                _state[key] = buf;
            }
            else buf.mul_(_c.Momentum).add_(d);
            d = _c.Nesterov ? d.add(buf, _c.Momentum) : buf;
        }
        p.add_(d, -lr);
    }

    /// <summary>
    /// LARS (You et al. 2017, eq. 6) as solo-learn's solo/utils/lars.py: for
    /// parameters that are not 1-D (or all, without the exclusion) with non-zero weight and gradient norms,
    /// r = η‖w‖/(‖g‖ + wd‖w‖ + eps), clipped to min(r/lr, 1), and g ← r(g + wd·w); 1-D parameters keep the
    /// plain gradient (no scaling, no decay). Then SGD momentum (dampening 0, optional Nesterov).
    /// </summary>
    private void LarsStep(string name, Parameter p, Tensor grad, double lr, double wd)
    {
        Tensor d = grad;
        if (p.dim() != 1 || !_c.LarsExcludeBiasNorm)
        {
            double pNorm = p.norm().item<float>(), gNorm = grad.norm().item<float>();
            if (pNorm != 0 && gNorm != 0)
            {
                double r = _c.LarsEta * pNorm / (gNorm + pNorm * wd + _c.Eps);
                if (_c.LarsClip) r = Math.Min(r / lr, 1);
                d = grad.add(p, wd).mul_(r);
            }
        }
        if (_c.Momentum != 0)
        {
            string key = name + ".momentum_buffer";
            if (!_state.TryGetValue(key, out Tensor? buf))
            {
                buf = d.detach().clone();
                buf.DetachFromDisposeScope();
                _state[key] = buf;
            }
            else buf.mul_(_c.Momentum).add_(d);
            d = _c.Nesterov ? d.add(buf, _c.Momentum) : buf;
        }
        p.add_(d, -lr);
    }

    private void AdamStep(string name, Parameter p, Tensor grad, double lr, double wd, bool decoupled)
    {
        if (decoupled) { if (wd != 0) p.mul_(1 - lr * wd); }
        else if (wd != 0) grad = grad.add(p, wd);
        Tensor m = Slot(name + ".exp_avg", p), v = Slot(name + ".exp_avg_sq", p);
        m.mul_(_c.Beta1).add_(grad, 1 - _c.Beta1);
        v.mul_(_c.Beta2).addcmul_(grad, grad, 1 - _c.Beta2);
        double bc1 = 1 - Math.Pow(_c.Beta1, StepCount);
        double bc2 = 1 - Math.Pow(_c.Beta2, StepCount);
        Tensor denom = (v.sqrt() / Math.Sqrt(bc2)).add_(_c.Eps);
        p.addcdiv_(m, denom, -lr / bc1);
    }

    private Tensor Slot(string key, Tensor like)
    {
        if (!_state.TryGetValue(key, out Tensor? t))
        {
            t = zeros_like(like);
            t.DetachFromDisposeScope();
            _state[key] = t;
        }
        return t;
    }

    /// <summary>State tensors named "{param}.{slot}" (momentum_buffer, exp_avg, exp_avg_sq).</summary>
    public IReadOnlyDictionary<string, Tensor> State => _state;

    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount)
    {
        var known = _params.Select(x => x.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var t in _state.Values) t.Dispose();
        _state.Clear();
        foreach (var (key, t) in state)
        {
            int dot = key.LastIndexOf('.');
            if (dot < 0 || !known.Contains(key[..dot]))
                throw new GenInputException($"resume state holds optimizer slot '{key}' for a parameter this model does not have; the run folder belongs to another model");
            Tensor copy = t.detach().clone();
            copy.DetachFromDisposeScope();
            _state[key] = copy;
        }
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var t in _state.Values) t.Dispose();
        _state.Clear();
    }
}
