// Where a statistics file came from (docs/methods/metrics.md §17): the extractor
// (network, layer, weights hash, preprocessing, dtype), the input (its spec, a content hash, the total
// image count) and, for a shard, which part. Written into every .npz Gen makes (gen_provenance, a member
// pytorch-fid does not read). Gen refuses to compare statistics whose extractor or preprocessing differ,
// and to merge shards that are not the parts of one input made one way.
using System.Text.Json.Nodes;
using Gen.Metrics.Features;
using Gen.Metrics.Sources;
using Gen.Pipeline;

namespace Gen.Metrics.Stats;

public static class StatsProvenance
{
    /// <summary>The fields that decide whether two feature spaces are the same.</summary>
    private static readonly string[] ExtractorFields = ["network", "layer", "dims", "weights_sha256", "preprocessing"];

    public static JsonObject Of(ExtractorInfo e, string input, string inputName, string inputHash, long n, int total, Shard? shard, long seed)
    {
        var o = new JsonObject
        {
            ["extractor"] = new JsonObject
            {
                ["name"] = ExtractorRecord.Of(e).Name,
                ["network"] = e.Network,
                ["layer"] = e.Layer,
                ["dims"] = e.Dims,
                ["weights_sha256"] = e.WeightsSha256,
                ["standard_weights"] = e.StandardWeights,
                ["preprocessing"] = e.Preprocessing,
                ["dtype"] = e.DType == FeatureDType.BFloat16 ? "bfloat16" : "float32",
            },
            ["input"] = input,
            ["input_name"] = inputName,
            ["input_hash"] = inputHash,
            ["input_images"] = total,
            ["n"] = n,
            ["gen_version"] = GenPaths.Version,
        };
        if (seed != 0) o["seed"] = seed;
        if (shard is { } s)
        {
            var (start, count) = s.Range(total);
            o["shard"] = new JsonObject { ["index"] = s.Index, ["count"] = s.Count, ["start"] = start, ["end"] = start + count };
        }
        return o;
    }

    /// <summary>The extractor part of an ExtractorInfo, in the record's form, for comparisons.</summary>
    public static JsonObject ExtractorOf(ExtractorInfo e) => (JsonObject)Of(e, "", "", "", 0, 0, null, 0)["extractor"]!.DeepClone();

    /// <summary>A one-line error when two feature spaces differ (extractor network, layer, weights or preprocessing).</summary>
    public static void CheckSameSpace(JsonObject? a, string nameA, JsonObject? b, string nameB)
    {
        if (a is null || b is null) return;   // statistics from other tools carry no record: nothing to compare
        foreach (string f in ExtractorFields)
        {
            string va = a[f]?.ToJsonString() ?? "?", vb = b[f]?.ToJsonString() ?? "?";
            if (va != vb)
                throw new GenInputException($"{nameA} and {nameB} were made in different feature spaces ({f}: {va} vs {vb}); compute both with the same extractor and preprocessing");
        }
    }

    /// <summary>The shards of one input, each exactly once: checks and returns them in index order.</summary>
    public static List<(string Path, GaussianStats Stats)> CheckShards(IReadOnlyList<(string Path, GaussianStats Stats)> parts)
    {
        if (parts.Count == 0) throw new GenInputException("no shard files given; pass part-*.npz files written by 'gen stats --shard k/n'");
        foreach (var (path, s) in parts)
            if (s.Provenance?["shard"] is null)
                throw new GenInputException($"'{path}' is not a shard (no shard record); write shards with 'gen stats A --shard k/n --out part-k.npz'");
        var (firstPath, first) = parts[0];
        JsonObject e0 = first.Provenance!["extractor"]!.AsObject();
        int count = first.Provenance!["shard"]!["count"]!.GetValue<int>();
        foreach (var (path, s) in parts.Skip(1))
        {
            var p = s.Provenance!;
            CheckSameSpace(e0, $"'{firstPath}'", p["extractor"]!.AsObject(), $"'{path}'");
            if (p["extractor"]!["dtype"]!.ToJsonString() != e0["dtype"]!.ToJsonString())
                throw new GenInputException($"'{firstPath}' and '{path}' were extracted in different precisions; make every shard with the same --dtype");
            foreach (string f in new[] { "input_hash", "input_images", "seed" })
                if ((p[f]?.ToJsonString() ?? "") != (first.Provenance[f]?.ToJsonString() ?? ""))
                    throw new GenInputException($"'{firstPath}' and '{path}' are shards of different inputs ({f}: {first.Provenance[f]?.ToJsonString() ?? "none"} vs {p[f]?.ToJsonString() ?? "none"}); merge the shards of one input");
            if (p["shard"]!["count"]!.GetValue<int>() != count)
                throw new GenInputException($"'{firstPath}' is one of {count} shards but '{path}' one of {p["shard"]!["count"]}; merge the shards of one split");
        }
        var byIndex = parts.GroupBy(p => p.Stats.Provenance!["shard"]!["index"]!.GetValue<int>()).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (index, list) in byIndex)
            if (list.Count > 1) throw new GenInputException($"shard {index}/{count} is given twice ('{list[0].Path}' and '{list[1].Path}'); pass each shard once");
        var missing = Enumerable.Range(0, count).Where(i => !byIndex.ContainsKey(i)).ToList();
        if (missing.Count > 0)
            throw new GenInputException($"shard(s) {string.Join(", ", missing.Select(i => $"{i}/{count}"))} missing; merge all {count} shards");
        return Enumerable.Range(0, count).Select(i => byIndex[i][0]).ToList();
    }
}
