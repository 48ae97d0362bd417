// One JSON convention for configs, metadata, metrics logs and --json output: snake_case names and
// enums as snake_case strings, so Python readers see familiar keys.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gen.Pipeline;

public static class Json
{
    public static readonly JsonSerializerOptions Options = Create(indented: true);
    public static readonly JsonSerializerOptions Compact = Create(indented: false);

    private static JsonSerializerOptions Create(bool indented)
    {
        var o = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            WriteIndented = indented,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>A keyed result cache kept in a JSON file under "cache" as [{"key": …, "point": …}] (the
    /// curves of fid-curve and detect-curve). A missing or damaged file is an empty cache: its points are
    /// recomputed, never trusted.</summary>
    public static Dictionary<string, T> ReadCache<T>(string path)
    {
        var d = new Dictionary<string, T>(StringComparer.Ordinal);
        if (!File.Exists(path)) return d;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.TryGetProperty("cache", out var cache))
                foreach (var e in cache.EnumerateArray())
                    if (e.Deserialize<CacheEntry<T>>(Options) is { Point: not null } s) d[s.Key] = s.Point;
        }
        catch (JsonException) { }
        return d;
    }

    public static string Serialize<T>(T value, bool indented = true) =>
        JsonSerializer.Serialize(value, indented ? Options : Compact);

    public static T Deserialize<T>(string json, string whatForErrors)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options)
                   ?? throw new GenInputException($"{whatForErrors} is empty JSON");
        }
        catch (JsonException e)
        {
            throw new GenInputException($"{whatForErrors} is not valid JSON for this version of Gen ({e.Message})", e);
        }
    }
}

/// <summary>One entry of a keyed result cache (see Json.ReadCache).</summary>
public sealed record CacheEntry<T>(string Key, T Point);
