// The bundled class-conditional diffusion model (assets/diffusion/fmnist-cond.safetensors) works right
// after clone: without --class, image i is of class i mod 10 and is sampled at the default guidance, and
// the bundled Fashion-MNIST classifier recognises the class it was asked for (threshold well under the
// measured figure of assets/diffusion/README.md); --class picks one class; bad options are one-line errors.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Generative.Diffusion;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Stages;

namespace Gen.Cli.Tests;

public sealed class BundledConditionalDiffusionTests
{
    public static string Asset => Path.Combine(Path.GetDirectoryName(SampleStage.Bundled())!, "fmnist-cond.safetensors");

    /// <summary>The bundled classifier's class for each sample of <paramref name="dir"/> (ordinal file order,
    /// as the folder reader reads them) and the seeds the file names carry.</summary>
    private static int[] Judge(string dir, out long[] seeds)
    {
        var files = Directory.GetFiles(dir).Where(ImageCodec.IsImageFile).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        seeds = files.Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), CultureInfo.InvariantCulture)).ToArray();
        using var judge = Gen.Metrics.Fmnist.FmnistExtractor.BundledClassifier();
        return ClassifierEval.Evaluate(judge, ImageFolderReader.Read(dir, Split.Test, "samples")).Predictions;
    }

    [Fact]
    public void SamplesAreOfTheirClass_AtTheDefaultGuidance()
    {
        Assert.True(File.Exists(Asset), $"missing {Asset}");
        using var tmp = new TempDir();
        var r = Cli.Run("sample", Asset, "--n", "20", "--seed", "0", "--out", tmp.File("s"), "--threads", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var info = JsonNode.Parse(r.Out)!;
        Assert.Equal(DiffusionConfig.ConditionalGuidance, info["guidance"]!.GetValue<double>());
        int[] judged = Judge(tmp.File("s"), out long[] seeds);
        int right = Enumerable.Range(0, judged.Length).Count(i => judged[i] == seeds[i] % 10);
        Assert.True(right >= 15, $"{right} of 20 samples judged as the class asked for");

        var k = Cli.Run("sample", Asset, "--n", "4", "--seed", "0", "--class", "1", "--out", tmp.File("k"), "--threads", "2");
        Assert.True(k.ExitCode == 0, k.Err);
        Assert.Contains("class 1 (Trouser), guidance 2", k.Out);
        Assert.True(Judge(tmp.File("k"), out _).Count(c => c == 1) >= 3, "--class 1 should give trousers");
    }

    [Fact]
    public void BadClassOrGuidance_OneLineError_ExitTwo()
    {
        using var tmp = new TempDir();
        foreach (var (args, needle) in new (string[], string)[]
        {
            ([Asset, "--class", "10"], "--class 10 is out of range"),
            ([Asset, "--guidance", "-1"], "--guidance"),
            (["--guidance", "2"], "class-conditional"),     // the bundled unconditional model
        })
        {
            var r = Cli.Run(["sample", .. args, "--n", "2", "--steps", "2", "--out", tmp.File("x")]);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(needle, r.Err);
            Assert.Single(r.Err.Trim().Split('\n'));
            Assert.False(Directory.Exists(tmp.File("x")));
        }
    }
}
