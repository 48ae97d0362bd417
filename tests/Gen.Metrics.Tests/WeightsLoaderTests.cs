// Weight files: torch.save's legacy and zip formats and safetensors, as Debian's torch 1.13 wrote them
// (mini_* fixtures: formula tensors, int64 counters, shared storages with offsets, a transposed view,
// float64 and float16), must give identical tensors; the hash is checked before parsing; the full
// 566-entry Inception loads by name.
using Gen.Metrics.Inception;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;

namespace Gen.Metrics.Tests;

public sealed class WeightsLoaderTests
{
    private static Dictionary<string, StTensor> Read(string file) =>
        InceptionWeights.Read(Fixtures.Path(file), InceptionWeights.FileSha256(Fixtures.Path(file))).Tensors;

    [Fact]
    public void Sniff_RecognisesAllThreeFormats()
    {
        foreach (var (file, format) in new[] { ("mini_legacy.pth", WeightsFormat.TorchLegacy), ("mini_zip.pth", WeightsFormat.TorchZip), ("mini.safetensors", WeightsFormat.SafeTensors) })
            Assert.Equal(format, InceptionWeights.Sniff(File.ReadAllBytes(Fixtures.Path(file)), file));
    }

    [Fact]
    public void LegacyZipAndSafetensors_GiveIdenticalTensors_EqualToTheFormula()
    {
        var legacy = Read("mini_legacy.pth");
        var zip = Read("mini_zip.pth");
        var st = Read("mini.safetensors");
        Assert.Equal(12, legacy.Count);
        foreach (var other in new[] { zip, st })
        {
            Assert.Equal(legacy.Keys.Order(StringComparer.Ordinal), other.Keys.Order(StringComparer.Ordinal));
            foreach (var (k, lt) in legacy)
            {
                Assert.Equal(lt.DType, other[k].DType);
                Assert.Equal(lt.Shape, other[k].Shape);
                Assert.True(lt.Data.AsSpan().SequenceEqual(other[k].Data), $"{k} differs");
            }
        }
        foreach (string k in new[] { "Conv2d_1a_3x3.conv.weight", "Conv2d_1a_3x3.bn.running_var", "Conv2d_1a_3x3.bn.num_batches_tracked", "fc.bias" })
        {
            StTensor expected = Formula.StateTensor(k, legacy[k].Shape);
            Assert.Equal(expected.Data, legacy[k].Data);
        }
        // Views: head = bias[:10], tail = bias[25:45] (storage offset), matrix_t = bias[:48].view(6,8).t().
        float[] bias = Floats(Formula.StateTensor("fc.bias", [1008]).Data);
        Assert.Equal(bias[..10], Floats(legacy["views.head"].Data));
        Assert.Equal(bias[25..45], Floats(legacy["views.tail"].Data));
        float[] t = Floats(legacy["views.matrix_t"].Data);
        Assert.Equal([8L, 6L], legacy["views.matrix_t"].Shape);
        for (int i = 0; i < 8; i++) for (int j = 0; j < 6; j++) Assert.Equal(bias[j * 8 + i], t[i * 6 + j]);
        Assert.Equal("F64", legacy["extra.double"].DType);
        Assert.Equal("F16", legacy["extra.half"].DType);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => i / 3.0), Doubles(legacy["extra.double"].Data));
    }

    private static float[] Floats(byte[] b) { var f = new float[b.Length / 4]; Buffer.BlockCopy(b, 0, f, 0, b.Length); return f; }

    private static double[] Doubles(byte[] b) { var f = new double[b.Length / 8]; Buffer.BlockCopy(b, 0, f, 0, b.Length); return f; }

    [Fact]
    public void WrongHash_IsRefusedBeforeParsing_AndNamesBothHashes()
    {
        string path = Fixtures.Path("mini_legacy.pth");
        var e = Assert.Throws<GenInputException>(() => InceptionWeights.Read(path));
        Assert.Contains(InceptionWeights.Sha256, e.Message);
        Assert.Contains(InceptionWeights.FileSha256(path), e.Message);
    }

    [Fact]
    public void TruncatedOrForeignFiles_AreInputErrors()
    {
        using var tmp = new TempDir();
        foreach (string file in new[] { "mini_legacy.pth", "mini_zip.pth" })
        {
            byte[] all = File.ReadAllBytes(Fixtures.Path(file));
            string cut = tmp.File("cut-" + file);
            File.WriteAllBytes(cut, all[..(all.Length - 100)]);
            Assert.Throws<GenInputException>(() => InceptionWeights.Read(cut, InceptionWeights.FileSha256(cut)));
        }
        string text = tmp.File("text.pth");
        File.WriteAllText(text, "hello, this is not a checkpoint");
        Assert.Contains("neither", Assert.Throws<GenInputException>(() => InceptionWeights.Read(text, InceptionWeights.FileSha256(text))).Message);
    }

    [Fact]
    public void PickleCallingArbitraryCode_IsRefused()
    {
        // protocol 2: GLOBAL os.system, ('echo hi',), REDUCE, STOP — what a malicious .pth would hold.
        byte[] evil = [0x80, 2, (byte)'c', .. "os\nsystem\n"u8, 0x8c, 7, .. "echo hi"u8, 0x85, (byte)'R', (byte)'.'];
        byte[] file = [0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.',
                       0x80, 2, (byte)'M', 0xe9, 0x03, (byte)'.', 0x80, 2, (byte)'}', (byte)'.', .. evil];
        var e = Assert.Throws<GenInputException>(() => TorchPickle.ReadLegacy(file, "evil.pth"));
        Assert.Contains("os.system", e.Message);
    }

    [Fact]
    public void FullInception_LoadsByName_FromAFile_AndMissingWeightsSayWhatToDo()
    {
        using var tmp = new TempDir();
        using var reference = new FidInceptionV3();
        var tensors = reference.state_dict().ToDictionary(kv => kv.Key, kv => Formula.StateTensor(kv.Key, kv.Value.shape));
        string path = tmp.File("formula.safetensors");
        SafeTensors.Write(path, tensors);
        var (net, info) = InceptionWeights.Load(path, InceptionWeights.FileSha256(path));
        using (net)
        {
            Assert.False(info.Standard);
            Assert.Equal(tensors["Mixed_7c.branch_pool.bn.running_var"].Data, TensorBytes.ToSt(net.state_dict()["Mixed_7c.branch_pool.bn.running_var"]).Data);
        }
        tensors.Remove("fc.bias");
        SafeTensors.Write(path, tensors);
        Assert.Contains("565 tensors", Assert.Throws<GenInputException>(() => InceptionWeights.Load(path, InceptionWeights.FileSha256(path))).Message);

        string? saved = Environment.GetEnvironmentVariable("GEN_HOME");
        Environment.SetEnvironmentVariable("GEN_HOME", tmp.Path);
        try
        {
            Assert.Null(InceptionWeights.Locate());
            var missing = InceptionWeights.Missing();
            Assert.Contains(InceptionWeights.FileName, missing.Message);
            Assert.Contains(Path.Combine(tmp.Path, "weights"), missing.Message);
            // Importing a file with the wrong hash leaves nothing in the cache.
            Assert.Throws<GenInputException>(() => InceptionWeights.Fetch(Fixtures.Path("mini_zip.pth")));
            Assert.False(File.Exists(InceptionWeights.CachePath));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(tmp.Path, "weights")));
        }
        finally { Environment.SetEnvironmentVariable("GEN_HOME", saved); }
    }
}
