// Per-class FID: a folder whose class subfolders hold exactly the reference's images of that class
// scores 0 in every class, the same folder with its class names shifted does not; a class-conditional
// generator is sampled class by class; the inputs that cannot be split by class are one-line errors.
using System.Text.Json;
using Gen.Cli;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;

namespace Gen.Metrics.Tests;

public sealed class PerClassFidTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => GenRun.Run(args);

    /// <summary>The reference's test images written as class subfolders named by <paramref name="name"/>(class).</summary>
    private static string AsClassFolders(ImageSet set, string root, Func<int, string> name)
    {
        for (int i = 0; i < set.Count; i++)
        {
            string dir = Path.Combine(root, name(set.Labels[i]));
            Directory.CreateDirectory(dir);
            ImageCodec.WritePng(Path.Combine(dir, $"{i:D5}.png"), set.Pixels.AsSpan(i * set.ImageBytes, set.ImageBytes).ToArray(), set.Channels, set.Height, set.Width);
        }
        return root;
    }

    [Fact]
    public void ClassFolders_OfTheReferenceItself_ScoreZero_ShiftedNamesDoNot()
    {
        using var tmp = new TempDir();
        string data = SyntheticIdx.Write(tmp.File("idx"), train: 40, test: 800, classes: 4);   // about 200 per class: full-rank 128-d covariances
        ImageSet test = DatasetCatalog.Load(data + ":test", Split.Test);
        string same = AsClassFolders(test, tmp.File("same"), c => c.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var r = Run("fid", same, data + ":test", "--extractor", "fmnist", "--per-class", "--plot", tmp.File("pc.png"), "--json");
        Assert.True(r.Code == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        var classes = doc.RootElement.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(4, classes.Count);
        Assert.All(classes, c => Assert.True(Math.Abs(c.GetProperty("value").GetDouble()) < 1e-5, c.ToString()));
        Assert.True(File.Exists(tmp.File("pc.png")));

        string shifted = AsClassFolders(test, tmp.File("shifted"), c => ((c + 1) % 4).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var s = Run("fid", shifted, data + ":test", "--extractor", "fmnist", "--per-class", "--json");
        Assert.True(s.Code == 0, s.Err);
        using var sdoc = JsonDocument.Parse(s.Out);
        var values = sdoc.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("value").GetDouble()).ToList();
        Assert.All(values, v => Assert.True(v > 1, $"a wrong class scored {v}"));
        Assert.Equal(values.Average(), sdoc.RootElement.GetProperty("mean").GetDouble(), 12);
    }

    [Fact]
    public void ConditionalGenerator_SampledClassByClass()
    {
        using var tmp = new TempDir();
        string data = SyntheticIdx.Write(tmp.File("idx"), train: 64, test: 80, classes: 3);
        var train = Run("train", "diffusion", "--data", data, "--conditional", "--steps", "2", "--batch", "16", "--width", "16", "--blocks", "1",
                        "--channel-mult", "1,2", "--sample-every", "0", "--grid-n", "3", "--out", tmp.File("run"), "--threads", "2");
        Assert.True(train.Code == 0, train.Err);
        var r = Run("fid", tmp.File("run"), data + ":test", "--extractor", "fmnist", "--per-class", "--n", "3", "--json");
        Assert.True(r.Code == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        var classes = doc.RootElement.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(3, classes.Count);
        Assert.All(classes, c => Assert.Equal(3, c.GetProperty("images_a").GetInt64()));
        Assert.All(classes, c => Assert.True(double.IsFinite(c.GetProperty("value").GetDouble())));
    }

    [Fact]
    public void InputsWithoutClasses_OneLineErrors()
    {
        using var tmp = new TempDir();
        string data = SyntheticIdx.Write(tmp.File("idx"), train: 40, test: 40, classes: 4);
        string flat = tmp.File("flat");
        Directory.CreateDirectory(flat);
        for (int i = 0; i < 5; i++) ImageCodec.WritePng(Path.Combine(flat, $"{i}.png"), Formula.Images((ulong)i, 1, 1, 28, 28), 1, 28, 28);

        var noClasses = Run("fid", flat, data + ":test", "--extractor", "fmnist", "--per-class");
        Assert.Equal(2, noClasses.Code);
        Assert.Contains("no class", noClasses.Err);
        var unconditional = Run("fid", Gen.Pipeline.Stages.SampleStage.Bundled(), data + ":test", "--extractor", "fmnist", "--per-class", "--n", "2");
        Assert.Equal(2, unconditional.Code);
        Assert.Contains("class-conditional", unconditional.Err);
        Assert.Single(unconditional.Err.Trim().Split('\n'));
        var stats = Run("fid", tmp.File("a.npz"), data + ":test", "--extractor", "fmnist", "--per-class");
        Assert.Equal(2, stats.Code);
        Assert.Contains("--per-class needs labelled images", stats.Err);
        var plotAlone = Run("fid", flat, data + ":test", "--extractor", "fmnist", "--plot", tmp.File("x.png"));
        Assert.Equal(2, plotAlone.Code);
        Assert.Contains("--per-class", plotAlone.Err);
    }
}
