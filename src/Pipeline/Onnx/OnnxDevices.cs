// Where exported networks run (docs/deploy.md §4): the engine (TorchSharp or ONNX Runtime) and, for
// ONNX Runtime, the execution provider. `--device auto` takes the first of DirectML (Windows), CUDA, CPU
// that the build offers and that starts. The candidates are a pure function of the providers the loaded
// ONNX Runtime build offers and the operating system, so every rule is testable on a CPU-only Linux machine.
using Microsoft.ML.OnnxRuntime;

namespace Gen.Pipeline.Onnx;

/// <summary>The inference engine a verb uses: "torch", "onnx" or "auto" (the engine measured faster for
/// the network's role, docs/deploy.md §5), the ONNX Runtime device, and ONNX Runtime's intra-op threads (0 = its default).</summary>
public sealed record InferenceSettings(string Engine = "auto", string Device = "auto", int Threads = 0)
{
    public static readonly InferenceSettings Default = new();

    public static readonly string[] Engines = ["auto", "torch", "onnx"];

    /// <summary>One-line errors for unknown names; a GPU device implies the onnx engine (TorchSharp here is CPU-only).</summary>
    public InferenceSettings Validated()
    {
        if (!Engines.Contains(Engine)) throw new GenInputException($"unknown --engine '{Engine}'; use torch, onnx or auto");
        if (!OnnxDevices.Devices.Contains(Device)) throw new GenInputException($"unknown --device '{Device}'; use cpu, cuda, dml or auto");
        if (Engine == "torch" && Device is "cuda" or "dml")
            throw new GenInputException($"--device {Device} runs through ONNX Runtime, but --engine torch was asked for; drop --engine or use --engine onnx");
        if (Threads < 0) throw new GenInputException($"--threads must be zero (auto) or positive, got {Threads}");
        return this;
    }

    /// <summary>ONNX Runtime was asked for, or implied by a GPU device: a network that cannot run there is an error,
    /// not a fall-back to TorchSharp.</summary>
    public bool RequiresOnnx => Engine == "onnx" || Device is "cuda" or "dml";

    /// <summary>Whether a network of <paramref name="role"/> runs on ONNX Runtime: required, or (auto) the measured
    /// default of the role.</summary>
    public bool UsesOnnx(string role) => Engine != "torch" && (RequiresOnnx || OnnxDevices.DefaultEngine(role) == "onnx");
}

/// <summary>A resolved device: its short name and ONNX Runtime's provider name.</summary>
public sealed record OnnxDevice(string Name, string Provider);

/// <summary>One execution provider: offered by the ONNX Runtime build Gen loaded, or not, and what a user needs for it.</summary>
public sealed record OnnxProvider(string Name, string Device, bool Available, string Need);

public static class OnnxDevices
{
    public const string Cpu = "CPUExecutionProvider";
    public const string Cuda = "CUDAExecutionProvider";
    public const string DirectML = "DmlExecutionProvider";

    public static readonly string[] Devices = ["auto", "cpu", "cuda", "dml"];

    private const string CudaNeed = "an NVIDIA GPU with the CUDA 13 runtime libraries (cuBLAS, cuDNN 9), and Gen built with -p:GenOnnxRuntime=cuda (docs/deploy.md §4)";
    private const string DmlNeed = "Windows 10/11 with a DirectX 12 GPU, and Gen built on Windows with -p:GenOnnxRuntime=directml (docs/deploy.md §4)";

    /// <summary>The engine measured faster on this kind of machine for each role (docs/deploy.md §5; bench/onnx/run.sh,
    /// figures in bench/RESULTS.md "ONNX Runtime against TorchSharp"); roles not measured run on TorchSharp.</summary>
    public static string DefaultEngine(string role) => MeasuredDefaults.GetValueOrDefault(role, "torch");

    private static readonly Dictionary<string, string> MeasuredDefaults = new(StringComparer.Ordinal)
    {
        ["denoiser"] = "onnx",             // EDM sampling, batch 64 and 256
        ["classifier"] = "onnx",           // the JEM-AT classifier, batch 256
        ["fmnist-features"] = "onnx",      // the Fashion-MNIST extractor, batch 250
        ["inception-features"] = "onnx",   // the FID Inception in float32, batch 50 (bf16 stays on TorchSharp)
    };

    public static IReadOnlySet<string> Offered() => OrtEnv.Instance().GetAvailableProviders().ToHashSet(StringComparer.Ordinal);

    /// <summary>The device for a request, on this build and operating system (auto: the first candidate).</summary>
    public static OnnxDevice Resolve(string requested) => Candidates(requested, Offered(), OperatingSystem.IsWindows())[0];

    /// <summary>The device for a request given the offered providers and the OS (auto: the first candidate).</summary>
    public static OnnxDevice Resolve(string requested, IReadOnlySet<string> offered, bool isWindows) => Candidates(requested, offered, isWindows)[0];

    /// <summary>
    /// The devices to try for a request, in order, given the offered providers and the OS: cpu always;
    /// cuda and dml only when offered (dml only on Windows); auto = DirectML, CUDA, then CPU, each GPU
    /// provider only when offered. A request that cannot be met is a one-line error naming what to
    /// install or build.
    /// </summary>
    public static IReadOnlyList<OnnxDevice> Candidates(string requested, IReadOnlySet<string> offered, bool isWindows)
    {
        switch (requested)
        {
            case "cpu":
                return [new OnnxDevice("cpu", Cpu)];
            case "cuda":
                if (!offered.Contains(Cuda))
                    throw new GenInputException($"--device cuda: this build of gen has no CUDA execution provider; it needs {CudaNeed}, or use --device cpu");
                return [new OnnxDevice("cuda", Cuda)];
            case "dml":
                if (!isWindows)
                    throw new GenInputException("--device dml: DirectML runs only on Windows; on Linux use --device cuda (NVIDIA GPU) or --device cpu");
                if (!offered.Contains(DirectML))
                    throw new GenInputException($"--device dml: this build of gen has no DirectML execution provider; it needs {DmlNeed}, or use --device cpu");
                return [new OnnxDevice("dml", DirectML)];
            case "auto":
                var list = new List<OnnxDevice>();
                if (isWindows && offered.Contains(DirectML)) list.Add(new OnnxDevice("dml", DirectML));
                if (offered.Contains(Cuda)) list.Add(new OnnxDevice("cuda", Cuda));
                list.Add(new OnnxDevice("cpu", Cpu));
                return list;
            default:
                throw new GenInputException($"unknown --device '{requested}'; use cpu, cuda, dml or auto");
        }
    }

    /// <summary>
    /// A session for the request: each candidate device in turn. With --device auto, a GPU provider that the
    /// build offers but that cannot start here (no GPU, missing CUDA libraries) falls through to the next
    /// candidate, CPU last; an explicit GPU device that cannot start is a one-line error.
    /// </summary>
    public static (InferenceSession Session, OnnxDevice Device) CreateSession(byte[] model, string requested, int threads)
    {
        var candidates = Candidates(requested, Offered(), OperatingSystem.IsWindows());
        for (int i = 0; ; i++)
        {
            try { return (StartSession(model, candidates[i], threads), candidates[i]); }
            catch (GenInputException) when (requested == "auto" && i < candidates.Count - 1) { }
        }
    }

    /// <summary>A session on <paramref name="device"/>. A GPU provider that is offered but cannot start (no GPU,
    /// missing CUDA libraries) is a one-line error.</summary>
    private static InferenceSession StartSession(byte[] model, OnnxDevice device, int threads)
    {
        QuietNativeLog();
        var options = new SessionOptions();
        try
        {
            if (threads > 0) options.IntraOpNumThreads = threads;
            switch (device.Name)
            {
                case "cuda":
                    options.AppendExecutionProvider_CUDA(0);
                    break;
                case "dml":
                    // ONNX Runtime's DirectML notes: no memory-pattern optimisation, sequential execution.
                    options.EnableMemoryPattern = false;
                    options.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
                    options.AppendExecutionProvider_DML(0);
                    break;
            }
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            options.Dispose();
            throw new GenInputException($"--device {device.Name}: ONNX Runtime could not start {device.Provider} ({e.Message.Split('\n')[0]}); check the GPU driver and {(device.Name == "cuda" ? "the CUDA 13 and cuDNN 9 libraries" : "DirectX 12")} (docs/deploy.md §4), or use --device cpu");
        }
        try { return new InferenceSession(model, options); }
        finally { options.Dispose(); }
    }

    /// <summary>ONNX Runtime's own log goes to stderr at warning level; Gen reports failures in its one-line
    /// errors, so the native log is kept to fatal messages.</summary>
    private static void QuietNativeLog()
    {
        if (Interlocked.Exchange(ref _quiet, 1) == 0) OrtEnv.Instance().EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
    }

    private static int _quiet;

    /// <summary>"cpu", "cuda" or "dml" for a provider name (the name itself for others).</summary>
    public static string Short(string provider) => provider switch { Cpu => "cpu", Cuda => "cuda", DirectML => "dml", _ => provider };

    /// <summary>The ONNX Runtime version and the providers Gen knows (CPU, CUDA, DirectML), with availability in this build.</summary>
    public static (string Version, IReadOnlyList<OnnxProvider> Providers) List()
    {
        var env = OrtEnv.Instance();
        var offered = Offered();
        OnnxProvider P(string name, string device, string need) => new(name, device, offered.Contains(name), offered.Contains(name) ? "" : need);
        var known = new List<OnnxProvider>
        {
            P(Cpu, "cpu", "part of every ONNX Runtime build"),
            P(Cuda, "cuda", CudaNeed),
            P(DirectML, "dml", DmlNeed),
        };
        foreach (string other in offered.Where(o => known.All(k => k.Name != o)).Order(StringComparer.Ordinal))
            known.Add(new OnnxProvider(other, "", true, ""));
        return (env.GetVersionString(), known);
    }
}
