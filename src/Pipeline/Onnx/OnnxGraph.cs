// Gen's ONNX graph writer (docs/deploy.md): TorchSharp has no exporter, so each exportable module
// writes its own nodes (IOnnxModule) into an OnnxGraph, which names values uniquely, stores weights as
// float32 initializers, and produces a ModelProto (opset 17, IR 8) with a dynamic batch axis and
// Gen's metadata. Only operators that every execution provider runs are used (docs/deploy.md §2 lists
// them); BatchNorm is folded into the convolution before it, and GroupNorm and attention are written
// from elementary operators (Reshape, ReduceMean, MatMul, Softmax, …) rather than GroupNormalization or
// a fused attention op, which some providers lack or get wrong.
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

/// <summary>How close ONNX Runtime's output must be to TorchSharp's: a largest absolute difference, or
/// that difference over the largest reference magnitude (Relative).</summary>
public sealed record OnnxTolerance(double Value, bool Relative)
{
    /// <summary>Classifiers and feature networks: 1e-5 relative.</summary>
    public static readonly OnnxTolerance Classifier = new(1e-5, true);

    /// <summary>Diffusion denoisers: 1e-4 absolute (optimum's tolerance for diffusion UNets).</summary>
    public static readonly OnnxTolerance Denoiser = new(1e-4, false);

    public bool Accepts(double maxAbs, double maxRelative) => (Relative ? maxRelative : maxAbs) <= Value;

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Value:0e0} {(Relative ? "relative" : "absolute")}");
}

/// <summary>A model (a capability of an opened checkpoint) that exports as a whole ONNX model.</summary>
public interface IOnnxExportable
{
    /// <summary>What the graph maps, e.g. "classifier": images [0,1] → logits; "denoiser": (x, σ, …) → D(x; σ).</summary>
    string OnnxRole { get; }

    /// <summary>Declares the graph's inputs and outputs and writes its nodes.</summary>
    void WriteOnnx(OnnxGraph g);

    /// <summary>Seeded inputs for the parity check, by graph input name.</summary>
    IReadOnlyDictionary<string, Tensor> ParityInputs(int count, Generator g);

    /// <summary>The same computation in TorchSharp, on <see cref="ParityInputs"/>.</summary>
    Tensor Reference(IReadOnlyDictionary<string, Tensor> inputs);

    OnnxTolerance Tolerance { get; }

    /// <summary>Extra metadata the ONNX opener of this role needs (e.g. the model's config).</summary>
    IReadOnlyDictionary<string, string> OnnxMetadata { get; }
}

/// <summary>A network that maps images in [0,1] (<c>images</c>, B×C×H×W) to one output: the parity inputs
/// are U[0,1] images and the reference is one TorchSharp call.</summary>
public interface IOnnxImageModel : IOnnxExportable
{
    int Channels { get; }
    int Height { get; }
    int Width { get; }

    /// <summary>TorchSharp's output for B×C×H×W images in [0,1].</summary>
    Tensor Reference(Tensor images01);

    IReadOnlyDictionary<string, Tensor> IOnnxExportable.ParityInputs(int count, Generator g) =>
        new Dictionary<string, Tensor> { [OnnxModels.InputName] = rand([count, Channels, Height, Width], generator: g) };

    Tensor IOnnxExportable.Reference(IReadOnlyDictionary<string, Tensor> inputs) => Reference(inputs[OnnxModels.InputName]);

    OnnxTolerance IOnnxExportable.Tolerance => OnnxTolerance.Classifier;

    IReadOnlyDictionary<string, string> IOnnxExportable.OnnxMetadata => new Dictionary<string, string>();
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
    public string Input(string name, params long[] dimsAfterBatch) => Input(name, dimsAfterBatch.Select(d => (object)d).ToArray());

    /// <summary>A float32 graph input with a dynamic batch axis; each further axis is a size (long) or a
    /// symbolic name (string: a dynamic axis, e.g. "height").</summary>
    public string Input(string name, object[] dimsAfterBatch)
    {
        string n = Name(name);
        _graph.Input.Add(Value(n, dimsAfterBatch));
        return n;
    }

    public void Output(string value, params long[] dimsAfterBatch) => _graph.Output.Add(Value(value, dimsAfterBatch.Select(d => (object)d).ToArray()));

    public void Output(string value, object[] dimsAfterBatch) => _graph.Output.Add(Value(value, dimsAfterBatch));

    private static ValueInfoProto Value(string name, object[] dimsAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchAxis });
        foreach (object d in dimsAfterBatch)
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
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

    /// <summary>A float32 scalar constant (shape [], broadcasts against anything).</summary>
    public string Scalar(string name, double value)
    {
        string n = Name(name);
        var proto = new TensorProto { Name = n, DataType = (int)TensorProto.Types.DataType.Float };
        proto.FloatData.Add((float)value);
        _graph.Initializer.Add(proto);
        return n;
    }

    /// <summary>An int64 vector constant (shapes, axes, indices).</summary>
    public string Int64s(string name, params long[] values)
    {
        string n = Name(name);
        var proto = new TensorProto { Name = n, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        _graph.Initializer.Add(proto);
        return n;
    }

    /// <summary>An int64 scalar constant (a Gather index that drops its axis).</summary>
    public string Int64Scalar(string name, long value)
    {
        string n = Name(name);
        var proto = new TensorProto { Name = n, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Int64Data.Add(value);
        _graph.Initializer.Add(proto);
        return n;
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

    public static AttributeProto Str(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

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
    public string Conv(string input, Tensor weight, Tensor? bias, long stride, long padding, string prefix, BatchNorm2d? bn = null) =>
        Conv(input, weight, bias, (stride, stride), (padding, padding), prefix, bn);

    /// <summary>As above with separate (height, width) strides and paddings (e.g. Inception's 1×7 convolutions).</summary>
    public string Conv(string input, Tensor weight, Tensor? bias, (long H, long W) stride, (long H, long W) padding, string prefix, BatchNorm2d? bn = null)
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
                    Ints("kernel_shape", w.shape[2], w.shape[3]), Ints("strides", stride.H, stride.W), Ints("pads", padding.H, padding.W, padding.H, padding.W));
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

    public string MaxPool(string input, long k, string prefix) => MaxPool(input, k, k, 0, prefix);

    /// <summary>k×k max pooling with the given stride and zero padding on every side (padding never wins a max).</summary>
    public string MaxPool(string input, long k, long stride, long padding, string prefix) =>
        Node("MaxPool", [input], prefix + ".maxpool", Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding));

    /// <summary>k×k average pooling with stride and zero padding; <paramref name="countPadding"/> as torch's count_include_pad.</summary>
    public string AvgPool(string input, long k, long stride, long padding, bool countPadding, string prefix) =>
        Node("AveragePool", [input], prefix + ".avgpool", Ints("kernel_shape", k, k), Ints("strides", stride, stride),
             Ints("pads", padding, padding, padding, padding), Int("count_include_pad", countPadding ? 1 : 0));

    /// <summary>k×k average pooling, stride 1, padding k/2, the padding not counted in the mean (count_include_pad = 0).</summary>
    public string AvgPoolSameExcludePad(string input, long k, string prefix) =>
        Node("AveragePool", [input], prefix + ".avgpool", Ints("kernel_shape", k, k), Ints("strides", 1, 1), Ints("pads", k / 2, k / 2, k / 2, k / 2), Int("count_include_pad", 0));

    public string GlobalAveragePool(string input, string prefix) => Node("GlobalAveragePool", [input], prefix + ".avgpool");

    public string Flatten(string input, string prefix) => Node("Flatten", [input], prefix + ".flatten", Int("axis", 1));

    public string Add(string a, string b, string prefix) => Node("Add", [a, b], prefix + ".add");

    public string Mul(string a, string b, string prefix) => Node("Mul", [a, b], prefix + ".mul");

    /// <summary>x·c for a constant c.</summary>
    public string Scale(string x, double c, string prefix) => Mul(x, Scalar(prefix + ".c", c), prefix);

    /// <summary>SiLU as x·σ(x) (Sigmoid and Mul run on every provider).</summary>
    public string Silu(string x, string prefix) => Node("Mul", [x, Node("Sigmoid", [x], prefix + ".sigmoid")], prefix + ".silu");

    /// <summary>Reshape to a constant shape (0 keeps the input's axis, −1 is inferred).</summary>
    public string Reshape(string x, string prefix, params long[] shape) => Node("Reshape", [x, Int64s(prefix + ".shape", shape)], prefix + ".reshape");

    /// <summary>Reshape to the runtime shape of <paramref name="like"/>.</summary>
    public string ReshapeLike(string x, string like, string prefix) => Node("Reshape", [x, Node("Shape", [like], prefix + ".shape")], prefix + ".reshape");

    public string Concat(string[] xs, long axis, string prefix) => Node("Concat", xs, prefix + ".concat", Int("axis", axis));

    public string Transpose(string x, string prefix, params long[] perm) => Node("Transpose", [x], prefix + ".transpose", Ints("perm", perm));

    /// <summary>2×2 average pooling with stride 2.</summary>
    public string AvgPool2(string x, string prefix) =>
        Node("AveragePool", [x], prefix + ".avgpool", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));

    /// <summary>Nearest-neighbour ×2 upsampling (Resize, nearest, asymmetric coordinates: pixel (i, j) ← (⌊i/2⌋, ⌊j/2⌋)).</summary>
    public string Upsample2(string x, string prefix) =>
        Node("Resize", [x, "", Initializer(prefix + ".scales", [1f, 1f, 2f, 2f], 4)], prefix + ".up",
             Str("mode", "nearest"), Str("coordinate_transformation_mode", "asymmetric"), Str("nearest_mode", "floor"));

    /// <summary>
    /// GroupNorm over <paramref name="groups"/> groups from elementary operators (docs/deploy.md §2):
    /// x → B×G×(C/G·H·W), subtract the mean, divide by √(var + ε) (biased variance, as torch), back to
    /// x's shape, then the per-channel affine. Works for any spatial size.
    /// </summary>
    public string GroupNorm(string x, long groups, Tensor weight, Tensor bias, double eps, string prefix)
    {
        string g = Reshape(x, prefix + ".groups", 0, groups, -1);
        string mean = Node("ReduceMean", [g], prefix + ".mean", Ints("axes", 2), Int("keepdims", 1));
        string centered = Node("Sub", [g, mean], prefix + ".centered");
        string variance = Node("ReduceMean", [Node("Mul", [centered, centered], prefix + ".square")], prefix + ".var", Ints("axes", 2), Int("keepdims", 1));
        string std = Node("Sqrt", [Node("Add", [variance, Scalar(prefix + ".eps", eps)], prefix + ".var_eps")], prefix + ".std");
        string normed = ReshapeLike(Node("Div", [centered, std], prefix + ".normed"), x, prefix + ".ungroup");
        long c = weight.shape[0];
        string w = Initializer(prefix + ".weight", weight.reshape(1, c, 1, 1));
        string b = Initializer(prefix + ".bias", bias.reshape(1, c, 1, 1));
        return Node("Add", [Node("Mul", [normed, w], prefix + ".scale"), b], prefix);
    }

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
