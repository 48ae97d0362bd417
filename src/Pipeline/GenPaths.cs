// Where Gen keeps user-level files: $GEN_HOME, else $XDG_CACHE_HOME/gen, else ~/.cache/gen.
namespace Gen.Pipeline;

public static class GenPaths
{
    public static string Home
    {
        get
        {
            string? home = Environment.GetEnvironmentVariable("GEN_HOME");
            if (!string.IsNullOrEmpty(home)) return home;
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "gen");
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "gen");
        }
    }

    public static string Datasets => Path.Combine(Home, "datasets");

    public static string Weights => Path.Combine(Home, "weights");

    /// <summary>The Gen version written into checkpoints and manifests.</summary>
    public static string Version =>
        typeof(GenPaths).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
