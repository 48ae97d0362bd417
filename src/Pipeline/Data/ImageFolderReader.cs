// Image folders: ROOT/<class>/*.png|jpg (as torchvision's ImageFolder: classes are the sorted
// subfolder names), or a split layout ROOT/train|test/<class>/... such as CIFAKE's
// train|test/REAL|FAKE (Bird & Lotfi 2024). Every image must have the same size; grey and colour
// files may mix (the set is colour if any file is).
using Gen.Pipeline.Imaging;

namespace Gen.Pipeline.Data;

public static class ImageFolderReader
{
    public static ImageSet Read(string root, Split split, string name)
    {
        if (!Directory.Exists(root))
            throw new GenInputException($"folder '{root}' does not exist; check the path");
        string splitDir = Path.Combine(root, DatasetCatalog.SplitName(split));
        string classRoot = Directory.Exists(splitDir) && Directory.EnumerateDirectories(splitDir).Any() ? splitDir : root;

        var classes = Directory.EnumerateDirectories(classRoot)
            .Select(Path.GetFileName).OfType<string>()
            .Where(d => !d.StartsWith('.'))
            .Where(d => Directory.EnumerateFiles(Path.Combine(classRoot, d)).Any(ImageCodec.IsImageFile))
            .OrderBy(d => d, StringComparer.Ordinal).ToArray();

        var files = new List<(string Path, int Label)>();
        if (classes.Length > 0)
        {
            for (int c = 0; c < classes.Length; c++)
                files.AddRange(Directory.EnumerateFiles(Path.Combine(classRoot, classes[c]))
                    .Where(ImageCodec.IsImageFile).OrderBy(f => f, StringComparer.Ordinal).Select(f => (f, c)));
        }
        else
        {
            files.AddRange(Directory.EnumerateFiles(classRoot).Where(ImageCodec.IsImageFile)
                .OrderBy(f => f, StringComparer.Ordinal).Select(f => (f, -1)));
        }
        if (files.Count == 0)
            throw new GenInputException($"folder '{root}' holds no PNG or JPEG images (looked in {classRoot} and its subfolders); point --data at a folder of images or of class subfolders");

        var decoded = new DecodedImage[files.Count];
        try
        {
            Parallel.For(0, files.Count, i => decoded[i] = ImageCodec.Decode(files[i].Path));
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<GenInputException>().FirstOrDefault() is { } first)
        {
            throw first;
        }

        int h = decoded[0].Height, w = decoded[0].Width;
        for (int i = 1; i < decoded.Length; i++)
            if (decoded[i].Height != h || decoded[i].Width != w)
                throw new GenInputException($"images in '{root}' have mixed sizes ({w}x{h} in '{files[0].Path}', {decoded[i].Width}x{decoded[i].Height} in '{files[i].Path}'); resize them to one size first");
        int channels = decoded.Any(d => d.Channels == 3) ? 3 : 1;
        int per = channels * h * w;
        var pixels = new byte[(long)per * files.Count];
        for (int i = 0; i < decoded.Length; i++)
        {
            var dst = pixels.AsSpan(i * per, per);
            if (decoded[i].Channels == channels) decoded[i].Pixels.CopyTo(dst);
            else for (int c = 0; c < 3; c++) decoded[i].Pixels.CopyTo(dst.Slice(c * h * w, h * w));
        }
        return new ImageSet(name, pixels, files.Select(f => f.Label).ToArray(), channels, h, w, classes, root);
    }
}
