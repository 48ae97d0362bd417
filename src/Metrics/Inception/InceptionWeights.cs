// The FID Inception weights: where they are, how they get there, and how they are read.
// pytorch-fid's file pt_inception-2015-12-05-6726825d.pth (FID_WEIGHTS_URL in src/pytorch_fid/inception.py),
// ported from TF's inception-2015-12-05.tgz; torch-fidelity v0.2.0 mirrors the same bytes. `6726825d` is the
// SHA-256 prefix by torch.hub's `name-<sha256 prefix>.ext` convention; the full hash and size below are the
// ones several independent projects pin for that file. The SHA-256 is checked before a byte is parsed.
// The file is read whatever torch.save format it has (it predates torch 1.6, so it is the legacy format):
// the first bytes decide between zip, legacy pickle and safetensors.
using System.Buffers.Binary;
using System.Security.Cryptography;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;

namespace Gen.Metrics.Inception;

public enum WeightsFormat { TorchZip, TorchLegacy, SafeTensors }

public sealed record InceptionWeightsInfo(string Path, string Sha256, WeightsFormat Format, bool Standard);

public static class InceptionWeights
{
    public const string FileName = "pt_inception-2015-12-05-6726825d.pth";
    public const string Sha256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2";
    public const long Bytes = 95_628_359;
    public const string EnvVar = "GEN_INCEPTION_WEIGHTS";

    public static readonly string[] Urls =
    [
        "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    ];

    public static string CachePath => Path.Combine(GenPaths.Weights, FileName);

    /// <summary>The weights to use: an explicit path, else $GEN_INCEPTION_WEIGHTS, else the cache; null when none exists.</summary>
    public static string? Locate(string? explicitPath = null)
    {
        if (!string.IsNullOrEmpty(explicitPath))
            return File.Exists(explicitPath) ? explicitPath
                : throw new GenInputException($"Inception weights '{explicitPath}' do not exist; check the --weights path");
        string? env = Environment.GetEnvironmentVariable(EnvVar);
        if (!string.IsNullOrEmpty(env))
            return File.Exists(env) ? env : throw new GenInputException($"${EnvVar} names '{env}', which does not exist; fix or unset it");
        return File.Exists(CachePath) ? CachePath : null;
    }

    public static GenInputException Missing() =>
        new($"the FID Inception weights are not installed: run 'gen weights fetch inception' (needs network), or put {FileName} ({Bytes:N0} bytes, SHA-256 {Sha256}) at {CachePath} or pass --weights FILE; offline on Fashion-MNIST, use --extractor fmnist");

    public static string FileSha256(string path)
    {
        using var fs = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    /// <summary>
    /// Hashes, verifies against <paramref name="expectedSha256"/> (the pinned hash unless the user states
    /// another), sniffs the format and returns the tensors by name.
    /// </summary>
    public static (Dictionary<string, StTensor> Tensors, InceptionWeightsInfo Info) Read(string path, string? expectedSha256 = null)
    {
        string expected = (expectedSha256 ?? Sha256).ToLowerInvariant();
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new GenInputException($"cannot read Inception weights '{path}': {e.Message}", e); }
        string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != expected)
        {
            string what = expectedSha256 is null
                ? $"pytorch-fid's {FileName} has SHA-256 {Sha256} ({Bytes:N0} bytes)"
                : $"--weights-sha256 says {expected}";
            throw new GenInputException($"Inception weights '{path}' have SHA-256 {actual} ({bytes.LongLength:N0} bytes) but {what}; the file is truncated, corrupt or another network: fetch it again with 'gen weights fetch inception'");
        }
        WeightsFormat format = Sniff(bytes, path);
        Dictionary<string, StTensor> tensors = format switch
        {
            WeightsFormat.TorchZip => TorchPickle.ReadZip(new MemoryStream(bytes, writable: false), path),
            WeightsFormat.TorchLegacy => TorchPickle.ReadLegacy(bytes, path),
            _ => new Dictionary<string, StTensor>(SafeTensors.Read(new MemoryStream(bytes, writable: false), path).Tensors, StringComparer.Ordinal),
        };
        return (tensors, new InceptionWeightsInfo(path, actual, format, actual == Sha256));
    }

    public static WeightsFormat Sniff(ReadOnlySpan<byte> bytes, string path)
    {
        if (TorchPickle.IsZip(bytes)) return WeightsFormat.TorchZip;
        if (TorchPickle.IsLegacy(bytes)) return WeightsFormat.TorchLegacy;
        if (bytes.Length >= 9 && BinaryPrimitives.ReadUInt64LittleEndian(bytes) < (ulong)bytes.Length && bytes[8] == (byte)'{')
            return WeightsFormat.SafeTensors;
        throw new GenInputException($"'{path}' is neither a PyTorch checkpoint (zip or legacy torch.save) nor a safetensors file");
    }

    /// <summary>Builds the network and loads the weights by name, checking all 566 keys and their shapes.</summary>
    public static (FidInceptionV3 Net, InceptionWeightsInfo Info) Load(string path, string? expectedSha256 = null)
    {
        var (tensors, info) = Read(path, expectedSha256);
        var net = new FidInceptionV3();
        try
        {
            if (tensors.Count != FidInceptionV3.StateDictEntries)
                throw new GenInputException($"'{path}' holds {tensors.Count} tensors, but the FID Inception has {FidInceptionV3.StateDictEntries}; it is not pytorch-fid's Inception state dict");
            Checkpoint.LoadInto(net, new SafeTensorsFile(new Dictionary<string, string>(), tensors, path));
        }
        catch
        {
            net.Dispose();
            throw;
        }
        net.eval();
        return (net, info);
    }

    /// <summary>
    /// Installs the weights into the cache: copies a local file, or downloads from a URL (default: pytorch-fid's
    /// release, then torch-fidelity's mirror). The bytes land in a temporary file, are hashed, and only a
    /// verified file is renamed into place.
    /// </summary>
    public static string Fetch(string? from, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        string target = CachePath;
        if (File.Exists(target) && FileSha256(target) == Sha256)
        {
            log?.Report($"already installed: {target}");
            return target;
        }
        Directory.CreateDirectory(GenPaths.Weights);
        string tmp = Path.Combine(GenPaths.Weights, $".{FileName}.{Environment.ProcessId}.download");
        try
        {
            if (from is not null && !from.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !from.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                if (!File.Exists(from)) throw new GenInputException($"'{from}' does not exist; pass the path of {FileName} or a URL");
                File.Copy(from, tmp, overwrite: true);
                Verify(tmp, from);
            }
            else
            {
                if (Environment.GetEnvironmentVariable("GEN_OFFLINE") == "1")
                    throw new GenInputException($"GEN_OFFLINE=1 forbids downloads; copy {FileName} here with 'gen weights fetch inception --from FILE'");
                var errors = new List<string>();
                foreach (string url in from is null ? Urls : [from])
                {
                    try
                    {
                        log?.Report($"downloading {url}");
                        Download(url, tmp, cancel);
                        Verify(tmp, url);
                        errors.Clear();
                        break;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        errors.Add($"{url}: {e.Message}");
                    }
                }
                if (errors.Count > 0)
                    throw new GenInputException($"could not download the Inception weights ({string.Join("; ", errors)}); without network, copy {FileName} (SHA-256 {Sha256}) from another machine and run 'gen weights fetch inception --from FILE'");
            }
            File.Move(tmp, target, overwrite: true);
            log?.Report($"installed {target}");
            return target;
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    private static void Verify(string file, string source)
    {
        string actual = FileSha256(file);
        if (actual != Sha256)
            throw new GenInputException($"'{source}' has SHA-256 {actual} ({new FileInfo(file).Length:N0} bytes), not {Sha256} ({Bytes:N0} bytes) of {FileName}; it is truncated, corrupt or another file");
    }

    private static void Download(string url, string dest, CancellationToken cancel)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(15) };
        using var response = http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel).GetAwaiter().GetResult();
        response.EnsureSuccessStatusCode();
        using var body = response.Content.ReadAsStream(cancel);
        using var file = File.Create(dest);
        body.CopyTo(file);
    }
}
