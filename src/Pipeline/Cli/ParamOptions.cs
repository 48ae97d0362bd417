// [Param] specs → System.CommandLine options, and the parsed values back to the JSON object a stage
// binds (only options the user gave, so defaults and recipes stay in the library).
using System.CommandLine;
using System.Text.Json.Nodes;
using Gen.Pipeline.Methods;

namespace Gen.Cli;

public sealed class ParamOptions
{
    private readonly List<(ParamSpec Spec, Option Option)> _options = [];

    public ParamOptions(IEnumerable<ParamSpec> specs, Command command)
    {
        foreach (var s in specs)
        {
            string[] aliases = s.Alias is null ? [] : [s.Alias];
            Option o = s.Type == ParamType.Flag
                ? new Option<bool>(s.Option, aliases) { Description = s.Description }
                : new Option<string?>(s.Option, aliases) { Description = s.Description + (s.Type == ParamType.Choice ? $" ({string.Join(", ", s.Choices)})" : "") };
            command.Options.Add(o);
            _options.Add((s, o));
        }
    }

    /// <summary>The options given on the command line, keyed by pipeline-file key.</summary>
    public JsonObject Given(ParseResult r)
    {
        var o = new JsonObject();
        foreach (var (s, opt) in _options)
        {
            if (opt is Option<bool> flag)
            {
                if (r.GetResult(flag) is { Implicit: false }) o[s.FileKey] = r.GetValue(flag);
            }
            else if (r.GetValue((Option<string?>)opt) is { } text) o[s.FileKey] = ParamSchema.FromText(s, text);
        }
        return o;
    }
}
