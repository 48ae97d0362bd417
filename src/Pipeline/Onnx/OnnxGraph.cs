// Gen's ONNX graph writer (docs/deploy.md): TorchSharp has no exporter, so each exportable module
// writes its own nodes (IOnnxModule) into an OnnxGraph, which names values uniquely, stores weights as
// float32 initializers, and produces a ModelProto (opset 17, IR 8) with a dynamic batch axis and
// Gen's metadata. Only operators that every execution provider runs are used (Conv, Gemm, Relu,
// MaxPool, GlobalAveragePool, Add, Sub, Div, Flatten); BatchNorm is folded into the convolution before it.
using Gen.Pipeline.Onnx.Proto;
using Google.Protobuf;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Pipeline.Onnx;

/// <summary>A module that writes its inference graph: given its input value, it returns its output value.</summary>
public interface IOnnxModule
{
    string WriteOnnx(OnnxGraph g, string input, string prefix);
}

/// <summary>A model (a capability of an opened checkpoint) that exports as a whole ONNX model.</summary>
public interface IOnnxExportable
{
    /// <summary>What the graph maps, e.g. "classifier": images [0,1] → logits.</summary>
    string OnnxRole { get; }

    /// <summary>Declares the graph's inputs and outputs and writes its nodes.</summary>
    void WriteOnnx(OnnxGraph g);

    /// <summary>Runs the same computation in TorchSharp for the parity check (B×C×H×W in [0,1] → output).</summary>
    Tensor Reference(Tensor input);

    int Channels { get; }
    int Height { get; }
    int Width { get; }
}

public sealed class OnnxGraph
{
    public const int Opset = 17;
    public const int IrVersion = 8;
    public const string BatchAxis = "batch";

    private readonly GraphProto _graph = new() { Name = "gen" };
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public GraphProto Graph => _graph;

    /// <summary>A fresh value name with the given stem.</summary>
    public string Name(string stem)
    {
        string name = stem;
        while (!_names.Add(name)) name = $"{stem}_{++_counter}";
        return name;
    }

    /// <summary>A float32 graph input with a dynamic first (batch) axis.</summary>
    public string Input(string name, params long[] dimsAfterBatch)
    {
        string n = Name(name);
        _graph.Input.Add(Value(n, dimsAfterBatch));
        return n;
    }

    public void Output(string value, params long[] dimsAfterBatch) => _graph.Output.Add(Value(value, dimsAfterBatch));

    private static ValueInfoProto Value(string name, long[] dimsAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchAxis });
        foreach (long d in dimsAfterBatch) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>A float32 constant (weights, normalisation constants) as an initializer.</summary>
    public string Initializer(string name, Tensor t)
    {
        string n = Name(name);
        using var c = t.detach().to_type(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = n, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(c.bytes) };
        proto.Dims.AddRange(c.shape);
        _graph.Initializer.Add(proto);
        return n;
    }

    public string Initializer(string name, float[] values, params long[] dims)
    {
        using var t = tensor(values).reshape(dims);
        return Initializer(name, t);
    }

    /// <summary>One node; returns its (single) output value.</summary>
    public string Node(string op, string[] inputs, string outputStem, params AttributeProto[] attributes)
    {
        string output = Name(outputStem);
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return output;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    // --- The layers Gen's networks are made of -----------------------------------------------------

    /// <summary>An inference-mode BatchNorm as a per-channel affine map y = x·s + t, in float64:
    /// s = γ/√(σ²+ε), t = β − μ·s.</summary>
    private static (Tensor Scale, Tensor Shift) Affine(BatchNorm2d bn)
    {
        Tensor scale = bn.weight!.detach().to_type(ScalarType.Float64).div(bn.running_var!.to_type(ScalarType.Float64).add(bn.eps).sqrt());
        Tensor shift = bn.bias!.detach().to_type(ScalarType.Float64).sub(bn.running_mean!.to_type(ScalarType.Float64).mul(scale));
        return (scale, shift);
    }

    /// <summary>A 2-d convolution, optionally followed by an inference-mode BatchNorm folded into it:
    /// w′ = w·s, b′ = b·s + t (= (b − μ)·γ/√(σ²+ε) + β).</summary>
    public string Conv(string input, Tensor weight, Tensor? bias, long stride, long padding, string prefix, BatchNorm2d? bn = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor w = weight.detach().to_type(ScalarType.Float64);
        Tensor b = bias?.detach().to_type(ScalarType.Float64) ?? zeros(w.shape[0], ScalarType.Float64);
        if (bn is not null)
        {
            var (scale, shift) = Affine(bn);
            w = w.mul(scale.reshape(-1, 1, 1, 1));
            b = b.mul(scale).add(shift);
        }
        return Node("Conv", [input, Initializer(prefix + ".weight", w), Initializer(prefix + ".bias", b)], prefix,
                    Ints("kernel_shape", w.shape[2], w.shape[3]), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding));
    }

    /// <summary>An inference BatchNorm on its own (where no convolution precedes it): Mul then Add per channel.</summary>
    public string BatchNorm(string input, BatchNorm2d bn, string prefix)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (scale, shift) = Affine(bn);
        string s = Initializer(prefix + ".scale", scale.reshape(1, -1, 1, 1));
        string t = Initializer(prefix + ".shift", shift.reshape(1, -1, 1, 1));
        return Node("Add", [Node("Mul", [input, s], prefix + ".mul"), t], prefix);
    }

    public string Relu(string input, string prefix) => Node("Relu", [input], prefix + ".relu");

    public string MaxPool(string input, long k, string prefix) =>
        Node("MaxPool", [input], prefix + ".maxpool", Ints("kernel_shape", k, k), Ints("strides", k, k));

    public string GlobalAveragePool(string input, string prefix) => Node("GlobalAveragePool", [input], prefix + ".avgpool");

    public string Flatten(string input, string prefix) => Node("Flatten", [input], prefix + ".flatten", Int("axis", 1));

    public string Add(string a, string b, string prefix) => Node("Add", [a, b], prefix + ".add");

    /// <summary>y = x·Wᵀ + b (torch.nn.Linear).</summary>
    public string Linear(string input, Linear fc, string prefix) =>
        Node("Gemm", [input, Initializer(prefix + ".weight", fc.weight!), Initializer(prefix + ".bias", fc.bias!)], prefix, Int("transB", 1));

    /// <summary>(x − mean)/std per channel (the normalisation models keep inside).</summary>
    public string Normalize(string input, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        long c = mean.Count;
        string m = Initializer("normalize.mean", mean.Select(v => (float)v).ToArray(), 1, c, 1, 1);
        string s = Initializer("normalize.std", std.Select(v => (float)v).ToArray(), 1, c, 1, 1);
        return Node("Div", [Node("Sub", [input, m], "normalize.sub"), s], "normalize");
    }

    /// <summary>The finished model with Gen's metadata.</summary>
    public ModelProto Model(IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "gen",
            ProducerVersion = GenPaths.Version,
            Domain = "gen",
            ModelVersion = 1,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }
}
