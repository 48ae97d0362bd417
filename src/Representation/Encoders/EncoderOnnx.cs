// A representation encoder as an ONNX graph (docs/deploy.md §8): images in [0,1] → the checkpoint's
// normalisation → the backbone → one output per probe layer ("pool", then "block1".."blockN", each
// flattened to B×d), so one pass gives any layer. OnnxEncoder is the IEncoder over such a graph on
// ONNX Runtime, for `gen probe --engine onnx` and `gen probe model.onnx`.
using System.Text.Json;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;
using static TorchSharp.torch;

namespace Gen.Representation.Encoders;

public static class EncoderOnnx
{
    public const string Role = "encoder";
    public const string DescriptionKey = "gen.encoder";

    /// <summary>What an OnnxEncoder needs besides the graph: the IEncoder facts of the checkpoint.</summary>
    public sealed record Facts(string Architecture, string TrainingData, string DefaultLayer, IReadOnlyList<string> Layers,
                               IReadOnlyDictionary<string, string> Provenance);

    public static void Write(OnnxGraph g, Encoder encoder, IEncoder model, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        string x = g.Input(OnnxModels.InputName, model.Channels, model.Height, model.Width);
        IReadOnlyList<string> blocks = encoder.WriteBlocksOnnx(g, g.Normalize(x, mean, std));
        g.Output(g.Node("Identity", [g.Flatten(g.GlobalAveragePool(blocks[^1], "pool"), "pool")], Encoder.Pool), encoder.FeatureDim);
        for (int i = 0; i < blocks.Count; i++)
        {
            string name = $"block{i + 1}";
            g.Output(g.Node("Identity", [g.Flatten(blocks[i], name)], name), encoder.LayerDim(name, model.Channels, model.Height, model.Width));
        }
    }

    public static string Describe(IEncoder model) => JsonSerializer.Serialize(new Facts(model.Architecture, model.TrainingData, model.DefaultLayer, model.Layers, model.Provenance));

    public static IModel Open(OnnxSession session, System.Text.Json.Nodes.JsonObject sampleSettings)
    {
        Facts facts = JsonSerializer.Deserialize<Facts>(session.Meta(DescriptionKey) ?? throw new GenInputException($"'{session.Source}' is an encoder without its description ({DescriptionKey}); export it again with gen export"))
                      ?? throw new GenInputException($"'{session.Source}' has an unreadable {DescriptionKey}; export it again with gen export");
        return new OnnxEncoder(session, facts);
    }
}

/// <summary>An exported encoder on ONNX Runtime: every layer from one pass, the requested one returned.</summary>
public sealed class OnnxEncoder : IModel, IEncoder
{
    private readonly OnnxSession _session;
    private readonly EncoderOnnx.Facts _facts;
    private readonly string[] _outputs;

    internal OnnxEncoder(OnnxSession session, EncoderOnnx.Facts facts)
    {
        _session = session;
        _facts = facts;
        _outputs = session.Session.OutputMetadata.Keys.ToArray();
        var input = session.Session.InputMetadata.Values.First();
        if (input.Dimensions.Length != 4 || !facts.Layers.All(_outputs.Contains))
            throw new GenInputException($"'{session.Source}' does not give the layers its description names ({string.Join(", ", facts.Layers)}); export it again with gen export");
        (Channels, Height, Width) = (input.Dimensions[1], input.Dimensions[2], input.Dimensions[3]);
        Kind = session.Meta("gen.kind") ?? "onnx";
        Step = long.TryParse(session.Meta("gen.step"), out long s) ? s : 0;
    }

    public string Kind { get; }
    public long Step { get; }
    public string Description => $"{_facts.Provenance.GetValueOrDefault("method", "encoder")} step {Step} ({_session.Engine})";
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public string TrainingData => _facts.TrainingData;
    public string Architecture => _facts.Architecture;
    public IReadOnlyList<string> Layers => _facts.Layers;
    public string DefaultLayer => _facts.DefaultLayer;
    public IReadOnlyDictionary<string, string> Provenance => _facts.Provenance;

    public Tensor Features(Tensor images01, string layer)
    {
        int index = Array.IndexOf(_outputs, layer);
        if (index < 0) throw new GenInputException($"--layer '{layer}' is not a layer of this encoder; use one of {string.Join(", ", Layers)}");
        using var scope = NewDisposeScope();
        Tensor[] all = OnnxModels.RunAll(_session.Session, new Dictionary<string, Tensor> { [OnnxModels.InputName] = images01 });
        return all[index].MoveToOuterDisposeScope();
    }

    public void Dispose() => _session.Dispose();
}
