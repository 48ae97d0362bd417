// Options described once, on the record that holds them. A property marked [Param] is an option of
// the command line (`--channel-mult 1,2,4`) and a key of a pipeline file (`"channel_mult": [1, 2, 4]`)
// under one name; ParamSchema lists them, converts command-line text to JSON values, rejects unknown
// keys, and binds given values over a record of defaults. Methods declare their options this way, so
// the CLI builds `gen train <kind>` and `gen sample` without knowing any method (docs/architecture.md
// "The method registry").
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gen.Pipeline.Methods;

/// <summary>Marks a property as an option. <see cref="Name"/> overrides the name derived from the
/// property (kebab case on the command line, snake case in pipeline files).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ParamAttribute(string description) : Attribute
{
    public string Description { get; } = description;
    public string? Name { get; init; }
    public string? Alias { get; init; }
}

public enum ParamType { Text, Flag, Integer, Number, Choice, Integers, Numbers }

public sealed record ParamSpec(string Name, string Key, PropertyInfo Property, ParamType Type, string Description,
                               string? Alias, IReadOnlyList<string> Choices)
{
    /// <summary>The command-line spelling, e.g. --channel-mult.</summary>
    public string Option => "--" + Name;

    /// <summary>The pipeline-file key, e.g. channel_mult.</summary>
    public string FileKey => Name.Replace('-', '_');
}

public sealed class ParamSchema
{
    private static readonly Dictionary<Type, ParamSchema> Cache = [];
    private static readonly Lock CacheLock = new();

    private ParamSchema(Type type)
    {
        Type = type;
        Specs = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (p, a: p.GetCustomAttribute<ParamAttribute>()))
            .Where(x => x.a is not null)
            .Select(x => Spec(x.p, x.a!))
            .ToList();
    }

    public Type Type { get; }
    public IReadOnlyList<ParamSpec> Specs { get; }

    public static ParamSchema Of(Type type)
    {
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(type, out var s)) Cache[type] = s = new ParamSchema(type);
            return s;
        }
    }

    public static ParamSchema Of<T>() => Of(typeof(T));

    public ParamSpec? Find(string fileKeyOrName) =>
        Specs.FirstOrDefault(s => s.FileKey == fileKeyOrName.Replace('-', '_'));

    private static ParamSpec Spec(PropertyInfo p, ParamAttribute a)
    {
        Type t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        ParamType kind = t == typeof(string) ? ParamType.Text
            : t == typeof(bool) ? ParamType.Flag
            : t == typeof(int) || t == typeof(long) ? ParamType.Integer
            : t == typeof(double) ? ParamType.Number
            : t.IsEnum ? ParamType.Choice
            : t == typeof(int[]) ? ParamType.Integers
            : t == typeof(double[]) ? ParamType.Numbers
            : throw new NotSupportedException($"[Param] {p.DeclaringType?.Name}.{p.Name}: type {t.Name} is not supported");
        string key = JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name);
        string name = a.Name ?? key.Replace('_', '-');
        var choices = t.IsEnum ? Enum.GetNames(t).Select(n => JsonNamingPolicy.SnakeCaseLower.ConvertName(n)).ToArray() : [];
        return new ParamSpec(name, key, p, kind, a.Description, a.Alias, choices);
    }

    /// <summary>Command-line text → the JSON value of a pipeline file (one-line error naming the option).</summary>
    public static JsonNode? FromText(ParamSpec s, string text)
    {
        string Bad(string what) => $"{s.Option} takes {what}, got '{text}'";
        try
        {
            switch (s.Type)
            {
                case ParamType.Text: return JsonValue.Create(text);
                case ParamType.Flag: return JsonValue.Create(bool.Parse(text));
                case ParamType.Integer: return JsonValue.Create(long.Parse(text, CultureInfo.InvariantCulture));
                case ParamType.Number: return JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture));
                case ParamType.Choice:
                    // Case, '-' and '_' are ignored: "adamw", "AdamW" and "adam_w" name one choice.
                    static string Plain(string x) => x.Trim().ToLowerInvariant().Replace("-", "").Replace("_", "");
                    string? c = s.Choices.FirstOrDefault(x => Plain(x) == Plain(text));
                    return c is null ? throw new GenInputException(Bad("one of " + string.Join(", ", s.Choices))) : JsonValue.Create(c);
                case ParamType.Integers:
                    return new JsonArray(Split(text).Select(v => (JsonNode)JsonValue.Create(long.Parse(v, CultureInfo.InvariantCulture))).ToArray());
                case ParamType.Numbers:
                    return new JsonArray(Split(text).Select(v => (JsonNode)JsonValue.Create(double.Parse(v, CultureInfo.InvariantCulture))).ToArray());
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new GenInputException(Bad(s.Type switch
            {
                ParamType.Integer => "an integer",
                ParamType.Number => "a number",
                ParamType.Integers => "integers separated by commas (e.g. 1,2,4)",
                ParamType.Numbers => "numbers separated by commas (e.g. 0.3,0.3,0.4)",
                _ => "true or false",
            }));
        }
        throw new InvalidOperationException(s.Type.ToString());
    }

    private static string[] Split(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 0 ? parts : throw new FormatException();
    }

    /// <summary>A pipeline-file value in the form the record expects (a "1,2,4" string is accepted for a list).</summary>
    private static JsonNode? Normalise(ParamSpec s, JsonNode? v) => v switch
    {
        JsonValue jv when jv.TryGetValue(out string? text) && s.Type is not ParamType.Text => FromText(s, text!),
        _ => v?.DeepClone(),
    };

    /// <summary>Throws for a key no option of this record has (naming <paramref name="where"/> and the known keys).</summary>
    public void CheckKeys(JsonObject given, string where, IEnumerable<string>? alsoAllowed = null)
    {
        var allowed = Specs.Select(s => s.FileKey).Concat(alsoAllowed ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var (k, _) in given)
            if (!allowed.Contains(k.Replace('-', '_')))
                throw new GenInputException($"{where}: unknown parameter '{k}'; known: {string.Join(", ", allowed.Order(StringComparer.Ordinal))}");
    }

    /// <summary>The defaults with the given values (keyed by option name) laid over them.</summary>
    public T Bind<T>(T defaults, JsonObject given, string where) where T : notnull => (T)BindAny(defaults, given, where);

    /// <summary>Bind for a record known by this schema's Type only (a method's options record).</summary>
    public object BindAny(object defaults, JsonObject given, string where)
    {
        JsonObject merged = JsonSerializer.SerializeToNode(defaults, Type, Json.Options)!.AsObject();
        foreach (var (k, v) in given)
        {
            ParamSpec s = Find(k) ?? throw new GenInputException($"{where}: unknown parameter '{k}'");
            merged[s.Key] = Normalise(s, v);
        }
        try
        {
            return merged.Deserialize(Type, Json.Options) ?? throw new GenInputException($"{where}: empty parameters");
        }
        catch (JsonException e)
        {
            string? key = e.Path?.TrimStart('$', '.');
            ParamSpec? s = key is null ? null : Specs.FirstOrDefault(x => x.Key == key);
            throw new GenInputException(s is null
                ? $"{where}: parameters do not fit ({e.Message})"
                : $"{where}: '{s.FileKey}' has the wrong type; it takes {Describe(s)}");
        }
    }

    /// <summary>Only the given keys that belong to this record (for splitting one flat parameter object).</summary>
    public JsonObject Pick(JsonObject given)
    {
        var o = new JsonObject();
        foreach (var (k, v) in given)
            if (Find(k) is not null) o[k.Replace('-', '_')] = v?.DeepClone();
        return o;
    }

    public static string Describe(ParamSpec s) => s.Type switch
    {
        ParamType.Text => "a string",
        ParamType.Flag => "true or false",
        ParamType.Integer => "an integer",
        ParamType.Number => "a number",
        ParamType.Choice => "one of " + string.Join(", ", s.Choices),
        ParamType.Integers => "a list of integers",
        _ => "a list of numbers",
    };
}
