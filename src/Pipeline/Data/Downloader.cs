// Downloads a known dataset's canonical files into the user cache, verifying each checksum before
// the file is moved into place (a failed or partial download never looks like a dataset).
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Gen.Pipeline.Data;

public enum ChecksumKind { Md5, Sha256, Sha256OfGunzipped }

public sealed record DownloadFile(string Name, string Url, string Checksum, ChecksumKind Kind, bool ExtractTar = false);

public static class Downloader
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public static void Fetch(KnownDataset known, string folder, IProgress<string>? log)
    {
        Directory.CreateDirectory(folder);
        using var http = new HttpClient { Timeout = Timeout };
        foreach (DownloadFile f in known.Files)
        {
            string dest = Path.Combine(folder, f.Name);
            if (File.Exists(dest) && Verify(dest, f)) continue;
            log?.Report($"downloading {f.Url}");
            string tmp = dest + ".download";
            using (var response = http.GetAsync(f.Url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult())
            {
                response.EnsureSuccessStatusCode();
                using var body = response.Content.ReadAsStream();
                using var file = File.Create(tmp);
                body.CopyTo(file);
            }
            if (!Verify(tmp, f))
            {
                File.Delete(tmp);
                throw new GenInputException($"the download of {f.Url} does not match its {f.Kind} checksum {f.Checksum}; try again later or fetch the file by hand into {folder}");
            }
            File.Move(tmp, dest, overwrite: true);
            if (f.ExtractTar) ExtractTarGz(dest, folder);
        }
    }

    public static bool Verify(string path, DownloadFile f)
    {
        string actual = f.Kind switch
        {
            ChecksumKind.Md5 => Hash(MD5.Create(), File.OpenRead(path)),
            ChecksumKind.Sha256 => Hash(SHA256.Create(), File.OpenRead(path)),
            _ => Hash(SHA256.Create(), new GZipStream(File.OpenRead(path), CompressionMode.Decompress)),
        };
        return string.Equals(actual, f.Checksum, StringComparison.OrdinalIgnoreCase);
    }

    public static string Sha256File(string path) => Hash(SHA256.Create(), File.OpenRead(path));

    private static string Hash(HashAlgorithm algorithm, Stream stream)
    {
        using (algorithm)
        using (stream)
            return Convert.ToHexStringLower(algorithm.ComputeHash(stream));
    }

    private static void ExtractTarGz(string archive, string folder)
    {
        using var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        string root = Path.GetFullPath(folder);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            string target = Path.GetFullPath(Path.Combine(root, entry.Name));
            if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new GenInputException($"archive '{archive}' holds a path outside its folder ({entry.Name}); refusing to extract it");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            entry.ExtractToFile(target, overwrite: true);
        }
    }
}
