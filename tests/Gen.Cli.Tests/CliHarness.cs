// Runs `gen` in-process (GenCli.Run with captured writers) or as a real child process (for exit
// codes under SIGKILL, native-library loading and start-up behaviour).
using System.Diagnostics;
using System.Runtime.CompilerServices;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Gen.Cli.Tests;

internal static class TestInit
{
    [ModuleInitializer]
    internal static void Init() => TestProcess.Init(oneThread: false);
}

public sealed record CliResult(int ExitCode, string Out, string Err);

public static class Cli
{
    public static CliResult Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = GenCli.Run(args, o, e, interactive: false);
        return new CliResult(code, o.ToString(), e.ToString());
    }

    /// <summary>The gen.dll built next to this test assembly's configuration (and build slot).</summary>
    public static string GenDll
    {
        get
        {
            string baseDir = AppContext.BaseDirectory.TrimEnd('/');
            // …/tests/Gen.Cli.Tests/bin[-slot]/<Config>/net10.0/linux-x64
            var parts = baseDir.Split('/');
            string rid = parts[^1], tfm = parts[^2], config = parts[^3], bin = parts[^4];
            string root = string.Join('/', parts[..^6]);
            string dll = Path.Combine(root, "src", "Pipeline", "Cli", bin, config, tfm, rid, "gen.dll");
            if (!File.Exists(dll)) throw new FileNotFoundException($"build the CLI first: {dll}");
            return dll;
        }
    }

    public static Process Start(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(GenDll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["GEN_OFFLINE"] = "1";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    public static CliResult RunProcess(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        using var p = Start(env, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException(string.Join(' ', args)); }
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A small 4-class MNIST-style IDX dataset (12×12 grey) that a tiny ResNet learns in seconds.</summary>
public static class ToyData
{
    public static string Write(string folder, int train = 512, int test = 128, int size = 12, int classes = 4)
    {
        Directory.CreateDirectory(folder);
        foreach (var (prefix, n, seed) in new[] { ("train", train, 11UL), ("t10k", test, 12UL) })
        {
            var rng = new Gen.Pipeline.Data.SplitMix(seed);
            var px = new byte[n * size * size];
            var lab = new byte[n];
            for (int i = 0; i < n; i++)
            {
                int c = (int)rng.NextBelow((ulong)classes);
                lab[i] = (byte)c;
                int level = 60 + 180 * c / (classes - 1);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        bool on = Math.Abs(y - size / 2) < 2 && Math.Abs(x - size / 2) < 2;
                        px[(i * size + y) * size + x] = on ? (byte)level : (byte)rng.NextBelow(40);
                    }
            }
            System.IO.File.WriteAllBytes(System.IO.Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), Idx.Bytes(px, n, size, size));
            System.IO.File.WriteAllBytes(System.IO.Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), Idx.Bytes(lab, n));
        }
        return folder;
    }

}
