using System.Buffers.Binary;
using System.Text;
using Gen.Pipeline.Checkpoints;

namespace Gen.Pipeline.Tests.Checkpoints;

public sealed class SafeTensorsTests
{
    [Fact]
    public void PythonWrittenFile_ReadsEveryDtype()
    {
        var f = SafeTensors.Read(Fixtures.Path("dtypes.safetensors"));
        Assert.Equal("fixture", f.Metadata["gen.kind"]);
        Assert.Equal(new long[] { 1, 3 }, f.Tensors["f32"].Shape);
        Assert.Equal(-2.25f, BitConverter.ToSingle(f.Tensors["f32"].Data, 4));
        Assert.Equal(Math.PI, BitConverter.ToDouble(f.Tensors["f64"].Data, 0));
        Assert.Equal(-(1L << 40), BitConverter.ToInt64(f.Tensors["i64"].Data, 0));
        Assert.Equal(new byte[] { 0, 127, 128, 255 }, f.Tensors["u8"].Data);
        Assert.Empty(f.Tensors["scalar"].Shape);
        // bf16 3.140625 = 0x4049
        Assert.Equal(0x4049, BitConverter.ToUInt16(f.Tensors["bf16"].Data, 4));
    }

    [Fact]
    public void WriteThenRead_RoundTripsBytesAndMetadata()
    {
        using var tmp = new TempDir();
        var t = new Dictionary<string, StTensor>
        {
            ["b.weight"] = new("F32", [2, 2], BitConverter.GetBytes(1f).Concat(BitConverter.GetBytes(2f)).Concat(BitConverter.GetBytes(3f)).Concat(BitConverter.GetBytes(4f)).ToArray()),
            ["a"] = new("I64", [1], BitConverter.GetBytes(9L)),
            ["empty"] = new("F32", [0, 3], []),
        };
        SafeTensors.Write(tmp.File("x.safetensors"), t, new Dictionary<string, string> { ["k"] = "v" });
        byte[] raw = File.ReadAllBytes(tmp.File("x.safetensors"));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(raw) % 8); // header padded to 8 bytes
        var back = SafeTensors.Read(tmp.File("x.safetensors"));
        Assert.Equal("v", back.Metadata["k"]);
        Assert.Equal(t["b.weight"].Data, back.Tensors["b.weight"].Data);
        Assert.Equal(new long[] { 0, 3 }, back.Tensors["empty"].Shape);
    }

    private static string WriteRaw(TempDir tmp, string header, int dataBytes)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        File.WriteAllBytes(tmp.File("raw.safetensors"), b);
        return tmp.File("raw.safetensors");
    }

    [Fact]
    public void Truncated_Refused()
    {
        using var tmp = new TempDir();
        string p = WriteRaw(tmp, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 10);
        var e = Assert.Throws<GenInputException>(() => SafeTensors.Read(p));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("raw.safetensors", e.Message);
    }

    [Fact]
    public void HeaderLengthBeyondFile_Refused()
    {
        using var tmp = new TempDir();
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 1000);
        File.WriteAllBytes(tmp.File("h.safetensors"), b);
        var e = Assert.Throws<GenInputException>(() => SafeTensors.Read(tmp.File("h.safetensors")));
        Assert.Contains("header length", e.Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 12, "lies about offsets")]   // size ≠ shape
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "lies about offsets")] // overlap
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "lies about offsets")]  // hole
    [InlineData("{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unknown dtype")]
    [InlineData("{not json", 0, "not valid JSON")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "negative")]
    public void LyingHeaders_Refused(string header, int data, string expected)
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<GenInputException>(() => SafeTensors.Read(WriteRaw(tmp, header, data)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void TooShortFile_Refused()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("s"), [1, 2, 3]);
        Assert.Throws<GenInputException>(() => SafeTensors.Read(tmp.File("s")));
    }
}
