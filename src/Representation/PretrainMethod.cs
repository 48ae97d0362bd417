// Shared base of the pretraining methods (solo-learn's BaseMethod role, minus the loop: the
// foundation's Trainer runs every method). It owns the config, the PretrainNet, the random streams
// and the optional Hallucinator. Streams (docs/methods/representation.md §6, "Fair Hallucinator protocol"): the encoder and
// heads draw from their own init stream, G from another, λ from a third keyed by step, MoCo's queue from
// a fourth; data order and augmentation come from the Trainer (seed, step). So a seed gives the same
// init, order and views with and without --hallucinator.
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using Gen.Representation.Contrastive;
using Gen.Representation.Rotation;
using Gen.Representation.Probes;
using static TorchSharp.torch;

namespace Gen.Representation;

public abstract class PretrainMethod : ITrainMethod
{
    public const string KindName = "representation";

    // Stream keys for SplitMix.Mix(seed, key): ASCII tags, so the streams are distinct and documented.
    internal const long InitStream = 0x494E4954;     // "INIT": encoder and heads
    internal const long HalInitStream = 0x48414C47;  // "HALG": the Hallucinator's G
    internal const long LambdaStream = 0x48414C4C;   // "HALL": λ per step
    internal const long QueueStream = 0x51554555;    // "QUEU": MoCo's initial queue

    private readonly Generator _init;

    protected PretrainMethod(PretrainConfig config, long seed)
    {
        config.Validate();
        Config = config;
        Seed = seed;
        _init = new Generator(SplitMix.Mix(seed, InitStream));
        Net = new PretrainNet(config.Encoder.Create(_init));
    }

    public PretrainConfig Config { get; }
    public long Seed { get; }
    public PretrainNet Net { get; }
    public Hallucinator? Hallucinator { get; private set; }

    public string Kind => KindName;
    public string ConfigJson => Json.Serialize(Config, indented: false);
    public nn.Module Model => Net;

    public IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>
    {
        ["gen.method"] = Config.Method.ToString().ToLowerInvariant(),
        ["gen.hallucinator"] = Config.Hallucinator.Enabled ? "on" : "off",
        ["gen.seed"] = Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["gen.encoder"] = Config.Encoder.Arch.ToString().ToLowerInvariant(),
    };

    /// <summary>The init generator, for heads built in a derived constructor (draws continue the encoder's stream).</summary>
    protected Generator Init => _init;

    /// <summary>Adds G (own init stream) when the config enables it. Call last in a derived constructor.</summary>
    protected void AddHallucinatorIfEnabled(int dim)
    {
        if (!Config.Hallucinator.Enabled) return;
        using var g = new Generator(SplitMix.Mix(Seed, HalInitStream));
        Hallucinator = Net.Add("hallucinator", new Hallucinator(dim, g));
    }

    /// <summary>This step's λ ~ U(0, λmax), from the λ stream keyed by (seed, step).</summary>
    protected double Lambda(StepContext ctx)
    {
        using var g = new Generator(SplitMix.Mix((long)SplitMix.Mix(Seed, LambdaStream), ctx.Step));
        return Hallucinator.DrawLambda(g, Config.Hallucinator.LambdaMax);
    }

    public virtual IReadOnlyList<ParamGroupSpec> ParamGroups() =>
        [new ParamGroupSpec("all", Net.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList())];

    public abstract StepOutput Step(Batch batch, StepContext ctx);

    public virtual void AfterStep(StepContext ctx) { }

    public static PretrainMethod Create(PretrainConfig config, long seed) => config.Method switch
    {
        PretrainMethodKind.Simclr => new SimClrMethod(config, seed),
        PretrainMethodKind.Mocov2 => new MocoMethod(config, seed),
        PretrainMethodKind.Simsiam => new SimSiamMethod(config, seed),
        PretrainMethodKind.Rotnet => new RotNetMethod(config, seed),
        PretrainMethodKind.Supervised => new SupervisedMethod(config, seed),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    public void Dispose()
    {
        Net.Dispose();
        _init.Dispose();
        GC.SuppressFinalize(this);
    }
}
