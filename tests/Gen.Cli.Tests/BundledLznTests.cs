// The bundled Latent Zoning Network (assets/lzn/) works right after clone: it classifies Fashion-MNIST
// test images through its zones, and its class-conditional samples are recognised by the bundled
// Fashion-MNIST classifier (thresholds well under the measured figures of assets/lzn/README.md).
using System.Text.Json.Nodes;
using Gen.Pipeline.Stages;

namespace Gen.Cli.Tests;

public sealed class BundledLznTests
{
    public static string Asset => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(SampleStage.Bundled())!, "..", "lzn", "fmnist-lzn.safetensors"));

    [Fact]
    public void Classifies_AndItsSamplesAreRecognised()
    {
        Assert.True(File.Exists(Asset), $"missing {Asset}");
        var c = Cli.Run("classify", Asset, "fashion-mnist:test", "--n", "512", "--json", "--threads", "2");
        Assert.True(c.ExitCode == 0, c.Err);
        double acc = JsonNode.Parse(c.Out)!["accuracy"]!.GetValue<double>();
        Assert.True(acc >= 0.80, $"bundled lzn test accuracy {acc} on 512 images");

        var registry = GenCli.Registry();
        using var model = (Gen.Generative.Lzn.LznModel)registry.Open(Asset);
        using var judge = Gen.Metrics.Fmnist.FmnistExtractor.BundledClassifier();
        double sampleAcc = Gen.Generative.Lzn.LznTraining.SampleAccuracy(model, judge, 50);
        Assert.True(sampleAcc >= 0.5, $"bundled lzn sample accuracy {sampleAcc} on 50 samples");
    }
}
