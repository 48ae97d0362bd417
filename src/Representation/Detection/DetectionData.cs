// Detection data (docs/methods/detection.md §1): any folder in the CIFAKE layout — train|test/REAL|FAKE,
// PNG or JPEG, as CIFAKE ships and as `gen detect build-dataset` writes — read as a two-class set with
// REAL = 0 and FAKE = 1 (FAKE is the positive class). Folder names match case-insensitively.
using Gen.Pipeline;
using Gen.Pipeline.Data;

namespace Gen.Representation.Detection;

public static class DetectionData
{
    public const string Real = "REAL", Fake = "FAKE";
    public const int RealLabel = 0, FakeLabel = 1;
    public static readonly string[] ClassNames = [Real, Fake];

    /// <summary>A detection set: a dataset reference (folder, optionally "cifake:" before it and ":train"/":test" after).</summary>
    public static ImageSet Load(string spec, Split defaultSplit, IProgress<string>? log = null)
    {
        return Binary(DatasetCatalog.Load(WithoutPrefix(spec), defaultSplit, log));
    }

    /// <summary>The reference without its optional "cifake:" prefix.</summary>
    public static string WithoutPrefix(string spec) =>
        spec.StartsWith("cifake:", StringComparison.OrdinalIgnoreCase) ? spec["cifake:".Length..] : spec;

    /// <summary>0…n−1 in the order of <paramref name="rng"/>'s shuffle: the one seeded draw of the
    /// detection code (real images for datasets and curves, the validation hold-out).</summary>
    public static int[] Permutation(int n, Random rng)
    {
        var a = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(a);
        return a;
    }

    /// <summary>The same images with labels REAL = 0, FAKE = 1.</summary>
    public static ImageSet Binary(ImageSet set)
    {
        int real = Index(set, Real), fake = Index(set, Fake);
        if (real < 0 || fake < 0 || set.ClassCount != 2)
            throw new GenInputException($"'{set.Name}' has classes [{string.Join(", ", set.ClassNames)}]; a detection set needs exactly the class folders REAL and FAKE (train|test/REAL|FAKE), e.g. one written by gen detect build-dataset");
        int[] labels = set.Labels.Select(l => l == fake ? FakeLabel : l == real ? RealLabel : -1).ToArray();
        return new ImageSet(set.Name, set.Pixels, labels, set.Channels, set.Height, set.Width, ClassNames, set.Source);
    }

    private static int Index(ImageSet set, string name)
    {
        for (int i = 0; i < set.ClassCount; i++)
            if (set.ClassNames[i].Equals(name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}
