// Deterministic crash points for the crash-safety tests. GEN_TEST_KILL_AT=NAME:N makes the process
// SIGKILL itself the N-th time it reaches the named point, so a test kills a run at the same place on
// a fast or a slow machine. Points: "step" (after the N-th optimizer step of this process, before any
// checkpoint of that step), "write" (inside the N-th atomic file write, after the temporary file is
// flushed and before the rename). Unset (always, outside tests) every call returns at once.
using System.Diagnostics;

namespace Gen.Pipeline;

public static class FaultPoints
{
    public const string Variable = "GEN_TEST_KILL_AT";
    public const string Step = "step";
    public const string Write = "write";

    private static readonly (string Name, long Count)? Target = Parse(Environment.GetEnvironmentVariable(Variable));
    private static long _hits;

    private static (string, long)? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        int colon = text.LastIndexOf(':');
        return colon > 0 && long.TryParse(text[(colon + 1)..], out long n) && n > 0 ? (text[..colon], n) : null;
    }

    /// <summary>Reached a named point: kills the process (SIGKILL) when it is the configured hit.</summary>
    public static void Hit(string name)
    {
        if (Target is not { } t || t.Name != name) return;
        if (Interlocked.Increment(ref _hits) == t.Count) Process.GetCurrentProcess().Kill();
    }
}
