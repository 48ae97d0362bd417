// A restricted unpickler for PyTorch state dicts, and readers for both torch.save formats:
//  * zip (torch ≥ 1.6 default): archive/data.pkl + archive/data/<key> raw storages; persistent ids
//    ('storage', StorageType, key, location, numel) (torch/serialization.py `_save`);
//  * legacy (`_use_new_zipfile_serialization=False`, and files from before 1.6 such as pytorch-fid's
//    pt_inception-2015-12-05-6726825d.pth): pickles of the magic 0x1950a86a20f9469cfc6c, protocol 1001,
//    sys_info, the object (persistent ids ('storage', StorageType, key, location, numel, view_metadata)),
//    the sorted storage keys, then per key an int64-LE element count and the raw little-endian bytes
//    (torch 1.13 serialization.py `_legacy_save` / `_legacy_load`; layout checked on files torch wrote).
// Like torch.load(weights_only=True) it builds nothing but containers, numbers, strings and tensors:
// any other global is refused, so a weights file cannot run code. TorchSharp.PyBridge 1.4.4 reads only
// the zip format and registers its constructors in Razorvine.Pickle's process-wide table, hence this.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;

namespace Gen.Metrics.Inception;

public static class TorchPickle
{
    private static readonly byte[] LegacyMagic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]; // LE bytes of 0x1950a86a20f9469cfc6c
    private const int LegacyProtocolVersion = 1001;

    private static readonly Dictionary<string, (string DType, int Size)> StorageTypes = new()
    {
        ["FloatStorage"] = ("F32", 4), ["DoubleStorage"] = ("F64", 8), ["HalfStorage"] = ("F16", 2),
        ["BFloat16Storage"] = ("BF16", 2), ["LongStorage"] = ("I64", 8), ["IntStorage"] = ("I32", 4),
        ["ShortStorage"] = ("I16", 2), ["CharStorage"] = ("I8", 1), ["ByteStorage"] = ("U8", 1), ["BoolStorage"] = ("BOOL", 1),
    };

    public static bool IsZip(ReadOnlySpan<byte> head) => head.Length >= 4 && head[0] == 0x50 && head[1] == 0x4b && head[2] == 0x03 && head[3] == 0x04;

    /// <summary>A legacy file starts with the pickled magic number: PROTO n, LONG1 10 bytes.</summary>
    public static bool IsLegacy(ReadOnlySpan<byte> head) =>
        head.Length >= 14 && head[0] == 0x80 && head[2] == 0x8a && head[3] == 10 && head.Slice(4, 10).SequenceEqual(LegacyMagic);

    /// <summary>Reads a state dict saved by torch.save in the zip format.</summary>
    public static Dictionary<string, StTensor> ReadZip(Stream stream, string path)
    {
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            ZipArchiveEntry pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) || e.FullName == "data.pkl")
                ?? throw new GenInputException($"'{path}' is a zip file without data.pkl; it is not a PyTorch checkpoint");
            string prefix = pkl.FullName[..^"data.pkl".Length];
            var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            byte[] Storage(StorageRef s)
            {
                if (storages.TryGetValue(s.Key, out byte[]? b)) return b;
                ZipArchiveEntry e = zip.GetEntry(prefix + "data/" + s.Key)
                    ?? throw new GenInputException($"'{path}' refers to storage '{s.Key}' that the archive lacks; the file is incomplete");
                using var es = e.Open();
                b = new byte[e.Length];
                es.ReadExactly(b);
                return storages[s.Key] = b;
            }
            object? root;
            using (var ps = pkl.Open())
            using (var ms = new MemoryStream())
            {
                ps.CopyTo(ms);
                root = new Unpickler(ms.ToArray(), path).Load();
            }
            return Collect(root, Storage, path);
        }
        catch (InvalidDataException e)
        {
            throw new GenInputException($"'{path}' is a damaged zip archive ({e.Message}); download it again", e);
        }
    }

    /// <summary>Reads a state dict saved by torch.save in the legacy (pre-1.6) format.</summary>
    public static Dictionary<string, StTensor> ReadLegacy(byte[] file, string path)
    {
        var u = new Unpickler(file, path);
        object? magic = u.Load();
        if (magic is not BigInteger m || m != BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber))
            throw new GenInputException($"'{path}' does not start with PyTorch's magic number; it is not a torch.save file");
        object? protocol = u.Load();
        if (protocol is not long p || p != LegacyProtocolVersion)
            throw new GenInputException($"'{path}' uses legacy protocol version {protocol}; Gen reads version {LegacyProtocolVersion}");
        if (u.Load() is Dictionary<object, object?> sysInfo && sysInfo.TryGetValue("little_endian", out object? le) && le is false)
            throw new GenInputException($"'{path}' was written on a big-endian machine; re-save it on a little-endian one");
        object? root = u.Load();
        if (u.Load() is not List<object?> keys)
            throw new GenInputException($"'{path}' lacks the legacy storage key list; the file is truncated or corrupt");

        // After the pickles: for each key in that order, int64 element count, then the bytes.
        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var sizes = u.StorageElementSizes;
        int at = u.Position;
        foreach (object? k in keys)
        {
            string key = k as string ?? throw new GenInputException($"'{path}' has a non-string storage key; the file is corrupt");
            if (at + 8 > file.Length) throw Truncated(path);
            long numel = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(at, 8));
            at += 8;
            int size = sizes.TryGetValue(key, out int s) ? s : 1;
            long bytes = checked(numel * size);
            if (numel < 0 || at + bytes > file.Length) throw Truncated(path);
            storages[key] = file.AsSpan(at, (int)bytes).ToArray();
            at += (int)bytes;
        }
        if (at != file.Length)
            throw new GenInputException($"'{path}' has {file.Length - at} bytes after its last storage; the file is corrupt");
        return Collect(root, r => storages.TryGetValue(r.Key, out byte[]? b) ? b : throw Truncated(path), path);
    }

    private static GenInputException Truncated(string path) =>
        new($"'{path}' ends inside its tensor data; the file is truncated (an interrupted download?); fetch it again");

    private static Dictionary<string, StTensor> Collect(object? root, Func<StorageRef, byte[]> storage, string path)
    {
        if (root is not Dictionary<object, object?> dict)
            throw new GenInputException($"'{path}' holds a pickled {root?.GetType().Name ?? "None"}, not a state dict; save model.state_dict()");
        var result = new Dictionary<string, StTensor>(StringComparer.Ordinal);
        foreach (var (k, v) in dict)
        {
            if (k is not string name) continue;
            if (v is not TensorRef t)
                throw new GenInputException($"'{path}' entry '{name}' is not a tensor; save model.state_dict()");
            result[name] = Materialize(t, storage(t.Storage), path, name);
        }
        return result;
    }

    /// <summary>Copies a (possibly strided, offset) view of a storage into a contiguous C-order tensor.</summary>
    private static StTensor Materialize(TensorRef t, byte[] storage, string path, string name)
    {
        var (dtype, size) = StorageTypes[t.Storage.Type];
        long numel = t.Size.Aggregate(1L, (a, b) => a * b);
        var data = new byte[numel * size];
        if (numel == 0) return new StTensor(dtype, t.Size, data);
        long maxIndex = t.Offset + t.Size.Select((n, i) => (n - 1) * t.Stride[i]).Sum();
        if (t.Offset < 0 || (maxIndex + 1) * size > storage.Length)
            throw new GenInputException($"'{path}' tensor '{name}' reaches past its storage; the file is corrupt");
        bool contiguous = true;
        for (int d = t.Size.Length - 1, expect = 1; d >= 0; expect *= (int)t.Size[d], d--)
            if (t.Size[d] != 1 && t.Stride[d] != expect) contiguous = false;
        if (contiguous)
        {
            Buffer.BlockCopy(storage, (int)(t.Offset * size), data, 0, data.Length);
            return new StTensor(dtype, t.Size, data);
        }
        var index = new long[t.Size.Length];
        for (long i = 0; i < numel; i++)
        {
            long src = t.Offset;
            for (int d = 0; d < index.Length; d++) src += index[d] * t.Stride[d];
            Buffer.BlockCopy(storage, (int)(src * size), data, (int)(i * size), size);
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Size[d]) break;
                index[d] = 0;
            }
        }
        return new StTensor(dtype, t.Size, data);
    }

    private sealed record StorageRef(string Type, string Key);

    private sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

    private sealed record Global(string Module, string Name);

    private sealed class Tuple(object?[] items)
    {
        public object?[] Items { get; } = items;
    }

    private sealed class Mark;

    /// <summary>Pickle protocols 0–5 restricted to what state dicts use (Python's pickletools gives the opcodes).</summary>
    private sealed class Unpickler(byte[] data, string path)
    {
        private readonly List<object?> _stack = [];
        private readonly Dictionary<long, object?> _memo = [];
        private int _pos;

        public int Position => _pos;
        public Dictionary<string, int> StorageElementSizes { get; } = new(StringComparer.Ordinal);

        private GenInputException Bad(string what) =>
            new($"'{path}' is not a PyTorch state dict Gen can read: {what} at byte {_pos}; it is corrupt or holds more than tensors");

        private byte U8() => _pos < data.Length ? data[_pos++] : throw Bad("unexpected end of pickle");

        private ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || _pos + n > data.Length) throw Bad("unexpected end of pickle");
            var s = data.AsSpan(_pos, (int)n);
            _pos += (int)n;
            return s;
        }

        private string Line()
        {
            int end = Array.IndexOf(data, (byte)'\n', _pos);
            if (end < 0) throw Bad("unterminated line");
            string s = Encoding.UTF8.GetString(data, _pos, end - _pos);
            _pos = end + 1;
            return s;
        }

        private object? Pop()
        {
            if (_stack.Count == 0) throw Bad("stack underflow");
            object? v = _stack[^1];
            _stack.RemoveAt(_stack.Count - 1);
            return v;
        }

        private List<object?> PopMark()
        {
            int i = _stack.FindLastIndex(o => o is Mark);
            if (i < 0) throw Bad("missing MARK");
            var items = _stack.GetRange(i + 1, _stack.Count - i - 1);
            _stack.RemoveRange(i, _stack.Count - i);
            return items;
        }

        private static object Int(BigInteger v) => v >= long.MinValue && v <= long.MaxValue ? (long)v : v;

        public object? Load()
        {
            _stack.Clear();
            while (true)
            {
                byte op = U8();
                switch (op)
                {
                    case 0x80: U8(); break;                                        // PROTO
                    case 0x95: Take(8); break;                                     // FRAME
                    case (byte)'.': return Pop();                                  // STOP
                    case (byte)'(': _stack.Add(new Mark()); break;                 // MARK
                    case (byte)'0': Pop(); break;                                  // POP
                    case (byte)'1': PopMark(); break;                              // POP_MARK
                    case (byte)'2': _stack.Add(_stack.Count > 0 ? _stack[^1] : throw Bad("DUP on empty stack")); break;
                    case (byte)'N': _stack.Add(null); break;
                    case 0x88: _stack.Add(true); break;
                    case 0x89: _stack.Add(false); break;
                    case (byte)'I':
                    {
                        string s = Line();
                        _stack.Add(s == "01" ? true : s == "00" ? false : Int(BigInteger.Parse(s, System.Globalization.CultureInfo.InvariantCulture)));
                        break;
                    }
                    case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                    case (byte)'K': _stack.Add((long)U8()); break;
                    case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                    case (byte)'L': _stack.Add(Int(BigInteger.Parse(Line().TrimEnd('L'), System.Globalization.CultureInfo.InvariantCulture))); break;
                    case 0x8a: _stack.Add(Int(new BigInteger(Take(U8()), isUnsigned: false, isBigEndian: false))); break;   // LONG1
                    case 0x8b: _stack.Add(Int(new BigInteger(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))), false, false))); break;
                    case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                    case (byte)'F': _stack.Add(double.Parse(Line(), System.Globalization.CultureInfo.InvariantCulture)); break;
                    case (byte)'X': _stack.Add(Encoding.UTF8.GetString(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                    case 0x8c: _stack.Add(Encoding.UTF8.GetString(Take(U8()))); break;
                    case 0x8d: _stack.Add(Encoding.UTF8.GetString(Take((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break;
                    case (byte)'V': _stack.Add(Line()); break;
                    case (byte)'T': _stack.Add(Encoding.Latin1.GetString(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break;
                    case (byte)'U': _stack.Add(Encoding.Latin1.GetString(Take(U8()))); break;
                    case (byte)'S': _stack.Add(Line().Trim('\'', '"')); break;
                    case (byte)'B': _stack.Add(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))).ToArray()); break;
                    case (byte)'C': _stack.Add(Take(U8()).ToArray()); break;
                    case (byte)')': _stack.Add(new Tuple([])); break;
                    case (byte)'t': _stack.Add(new Tuple(PopMark().ToArray())); break;
                    case 0x85: _stack.Add(new Tuple([Pop()])); break;
                    case 0x86: { object? b = Pop(), a = Pop(); _stack.Add(new Tuple([a, b])); break; }
                    case 0x87: { object? c = Pop(), b = Pop(), a = Pop(); _stack.Add(new Tuple([a, b, c])); break; }
                    case (byte)']': _stack.Add(new List<object?>()); break;
                    case (byte)'l': _stack.Add(PopMark()); break;
                    case (byte)'a': { object? v = Pop(); AsList(_stack[^1]).Add(v); break; }
                    case (byte)'e': { var items = PopMark(); AsList(_stack[^1]).AddRange(items); break; }
                    case (byte)'}': _stack.Add(new Dictionary<object, object?>()); break;
                    case (byte)'d': { var items = PopMark(); var d = new Dictionary<object, object?>(); SetItems(d, items); _stack.Add(d); break; }
                    case (byte)'s': { object? v = Pop(), k = Pop(); SetItems(AsDict(_stack[^1]), [k, v]); break; }
                    case (byte)'u': { var items = PopMark(); SetItems(AsDict(_stack[^1]), items); break; }
                    case (byte)'c': { string module = Line(); _stack.Add(new Global(module, Line())); break; }
                    case 0x93: { object? name = Pop(), module = Pop(); _stack.Add(new Global((string)module!, (string)name!)); break; }
                    case (byte)'R': { object? args = Pop(), f = Pop(); _stack.Add(Reduce(f, args)); break; }
                    case 0x81: { object? args = Pop(), cls = Pop(); _stack.Add(Reduce(cls, args)); break; }  // NEWOBJ
                    case (byte)'b': Pop(); break;  // BUILD: OrderedDict's state is its `_metadata` (version info); not needed
                    case (byte)'Q': _stack.Add(Persistent(Pop())); break;
                    case (byte)'p': _memo[long.Parse(Line(), System.Globalization.CultureInfo.InvariantCulture)] = _stack[^1]; break;
                    case (byte)'q': _memo[U8()] = _stack[^1]; break;
                    case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = _stack[^1]; break;
                    case 0x94: _memo[_memo.Count] = _stack[^1]; break;             // MEMOIZE
                    case (byte)'g': _stack.Add(Memo(long.Parse(Line(), System.Globalization.CultureInfo.InvariantCulture))); break;
                    case (byte)'h': _stack.Add(Memo(U8())); break;
                    case (byte)'j': _stack.Add(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                    default: throw Bad($"pickle opcode 0x{op:x2} is not used by state dicts");
                }
            }
        }

        private object? Memo(long key) => _memo.TryGetValue(key, out object? v) ? v : throw Bad($"memo key {key} missing");

        private List<object?> AsList(object? o) => o as List<object?> ?? throw Bad("APPEND to a non-list");

        private Dictionary<object, object?> AsDict(object? o) => o as Dictionary<object, object?> ?? throw Bad("SETITEM on a non-dict");

        private void SetItems(Dictionary<object, object?> d, List<object?> items)
        {
            if (items.Count % 2 != 0) throw Bad("odd number of dict items");
            for (int i = 0; i < items.Count; i += 2) d[items[i] ?? throw Bad("None as a dict key")] = items[i + 1];
        }

        private object Persistent(object? pid)
        {
            // ('storage', StorageType, key, location, numel[, view_metadata])
            if (pid is not Tuple { Items: [string kind, Global type, _, _, _, ..] } t || kind != "storage")
                throw Bad("unknown persistent id (only tensor storages are allowed)");
            if (!StorageTypes.TryGetValue(type.Name, out var info) || type.Module != "torch")
                throw Bad($"storage type {type.Module}.{type.Name} is not supported");
            string key = t.Items[2]?.ToString() ?? throw Bad("storage without key");
            if (t.Items.Length > 5 && t.Items[5] is not null) throw Bad("storage views (legacy view_metadata) are not supported");
            StorageElementSizes[key] = info.Size;
            return new StorageRef(type.Name, key);
        }

        private object Reduce(object? f, object? args)
        {
            if (f is not Global g) throw Bad("call of a non-global");
            object?[] a = (args as Tuple)?.Items ?? throw Bad("call arguments are not a tuple");
            switch ($"{g.Module}.{g.Name}")
            {
                case "collections.OrderedDict":
                    return new Dictionary<object, object?>();
                case "torch._utils._rebuild_tensor_v2":
                case "torch._utils._rebuild_tensor":
                    if (a.Length < 4 || a[0] is not StorageRef s || a[1] is not long offset) throw Bad("malformed tensor");
                    return new TensorRef(s, offset, Longs(a[2]), Longs(a[3]));
                case "torch._utils._rebuild_parameter":
                    return a.Length > 0 && a[0] is TensorRef tr ? tr : throw Bad("malformed parameter");
                default:
                    throw Bad($"the file calls {g.Module}.{g.Name}, which a state dict never needs (refused, as torch.load(weights_only=True) would)");
            }
        }

        private long[] Longs(object? o) => (o as Tuple)?.Items.Select(x => x is long l ? l : throw Bad("non-integer size")).ToArray() ?? throw Bad("size is not a tuple");
    }
}
