// The metric commands end to end through GenCli.Run: results, JSON labels, and one-line errors with exit 2.
using System.Text.Json;
using Gen.Cli;
using Gen.Metrics.Inception;
using Gen.Pipeline.Imaging;

namespace Gen.Metrics.Tests;

public sealed class MetricsCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => GenRun.Run(args);

    private static string Samples(TempDir tmp, int n, int size = 28)
    {
        string folder = tmp.File("samples");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < n; i++)
            ImageCodec.WritePng(Path.Combine(folder, $"{i:D4}.png"), Formula.Images((ulong)i, 1, 1, size, size), 1, size, size);
        return folder;
    }

    [Fact]
    public void FidAndStats_WithTheBundledExtractor_PrintLabelledJsonAndWritePytorchFidNpz()
    {
        using var tmp = new TempDir();
        string folder = Samples(tmp, 20);
        var (code, output, err) = Run("fid", folder, "fashion-mnist:test", "--extractor", "fmnist", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("FD-FMNIST", doc.RootElement.GetProperty("metric").GetString());
        Assert.Equal(20, doc.RootElement.GetProperty("a").GetProperty("n").GetInt32());
        Assert.Equal("fmnist", doc.RootElement.GetProperty("extractor").GetProperty("name").GetString());
        Assert.Contains("rank-deficient", err);

        string npz = tmp.File("a.npz");
        Assert.Equal(0, Run("stats", folder, "--out", npz, "--extractor", "fmnist").Code);
        Assert.Equal(2, Run("stats", folder, "--out", npz, "--extractor", "fmnist").Code);   // exists: needs --force
        var (c2, o2, e2) = Run("fid", npz, npz);
        Assert.True(c2 == 0, e2);
        Assert.Contains("0.0000", o2);
    }

    [Theory]
    [InlineData("fid", "{empty}", "fashion-mnist:test", "--extractor", "fmnist")]
    [InlineData("fid", "{missing}.npz", "{missing}.npz")]
    [InlineData("fid", "{one}", "{one}", "--extractor", "fmnist")]
    [InlineData("fid", "{samples}", "fashion-mnist:test", "--extractor", "fmnist", "--dims", "64")]
    [InlineData("is", "{samples}", "--extractor", "fmnist")]
    [InlineData("kid", "{samples}", "{samples}", "--extractor", "fmnist")]
    [InlineData("fid", "{samples}", "{samples}", "--extractor", "inception", "--weights", "{badweights}")]
    [InlineData("weights", "fetch", "inception")]
    [InlineData("fid-curve", "{samples}", "--ref", "fashion-mnist:test")]
    [InlineData("fid", "{huge}", "fashion-mnist:test", "--extractor", "fmnist")]
    [InlineData("is", "{huge}", "--extractor", "fmnist")]
    public void BadInputs_AreOneLineErrors_WithExitCode2(params string[] template)
    {
        using var tmp = new TempDir();
        string samples = Samples(tmp, 12);
        Directory.CreateDirectory(tmp.File("empty"));
        Directory.CreateDirectory(tmp.File("one"));
        File.Copy(Path.Combine(samples, "0000.png"), tmp.File("one/0000.png"));
        File.Copy(Fixtures.Path("mini_zip.pth"), tmp.File("bad.pth"));
        Directory.CreateDirectory(tmp.File("huge"));
        foreach (string f in Directory.EnumerateFiles(samples)) File.Copy(f, tmp.File("huge/" + Path.GetFileName(f)));
        File.WriteAllBytes(tmp.File("huge/9999.png"), Gen.Testing.BrokenImages.PngDeclaring(60000, 60000));
        string? home = Environment.GetEnvironmentVariable("GEN_HOME");
        Environment.SetEnvironmentVariable("GEN_HOME", tmp.File("home"));
        try
        {
            string[] args = template.Select(a => a.Replace("{empty}", tmp.File("empty")).Replace("{missing}", tmp.File("missing"))
                .Replace("{one}", tmp.File("one")).Replace("{samples}", samples).Replace("{badweights}", tmp.File("bad.pth")).Replace("{huge}", tmp.File("huge"))).ToArray();
            var (code, _, err) = Run(args);
            Assert.True(code == 2, $"exit {code}: {err}");
            string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();
            Assert.Single(lines);
        }
        finally { Environment.SetEnvironmentVariable("GEN_HOME", home); }
    }

    [Fact]
    public void MissingInceptionWeights_SayWhichFileToPutWhere()
    {
        using var tmp = new TempDir();
        string samples = Samples(tmp, 3);
        string? home = Environment.GetEnvironmentVariable("GEN_HOME");
        Environment.SetEnvironmentVariable("GEN_HOME", tmp.File("home"));
        try
        {
            var (code, _, err) = Run("is", samples);
            Assert.Equal(2, code);
            Assert.Contains(InceptionWeights.FileName, err);
            Assert.Contains(InceptionWeights.Sha256, err);
            Assert.Contains(Path.Combine(tmp.File("home"), "weights"), err);
        }
        finally { Environment.SetEnvironmentVariable("GEN_HOME", home); }
    }
}
