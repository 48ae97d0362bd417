// .npz statistics: files numpy wrote are read exactly, and the members Gen writes are byte-identical to the
// ones numpy 1.24 wrote for the same arrays (tests/fixtures/metrics/numpy_*.npz).
using System.IO.Compression;
using Gen.Metrics.Stats;
using Gen.Pipeline;

namespace Gen.Metrics.Tests;

public sealed class NpzTests
{
    private static (double[] Mu, double[] Sigma) Expected()
    {
        double[] mu = Formula.Features(51, 1, 16, 0);
        double[] f = Formula.Features(52, 40, 16, 0);
        var sigma = new double[16 * 16];
        var mean = new double[16];
        for (int j = 0; j < 16; j++) mean[j] = Enumerable.Range(0, 40).Sum(i => f[i * 16 + j]) / 40;
        for (int a = 0; a < 16; a++)
            for (int b = 0; b < 16; b++)
                sigma[a * 16 + b] = Enumerable.Range(0, 40).Sum(i => (f[i * 16 + a] - mean[a]) * (f[i * 16 + b] - mean[b])) / 39;
        return (mu, sigma);
    }

    private static Dictionary<string, byte[]> Members(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        });
    }

    [Theory]
    [InlineData("numpy_compressed.npz")]
    [InlineData("numpy_stored.npz")]
    public void NumpyFiles_ReadExactly(string file)
    {
        GaussianStats s = GaussianStats.Load(Fixtures.Path(file));
        var (mu, sigma) = Expected();
        Assert.Equal(mu, s.Mu);   // bit-exact: the fixture's mu is the same dyadic formula
        for (int i = 0; i < sigma.Length; i++) Assert.Equal(sigma[i], s.Sigma[i], 12);
    }

    [Fact]
    public void Float32FortranAndExtraKeys_AreRead()
    {
        var arrays = Npz.Read(Fixtures.Path("numpy_odd.npz"));
        var plain = Npz.Read(Fixtures.Path("numpy_stored.npz"));
        Assert.Equal(plain["sigma"].Data, arrays["sigma"].Data);          // fortran_order → C order
        Assert.Equal(plain["mu"].Data.Select(v => (double)(float)v), arrays["mu"].Data);
        Assert.False(arrays.ContainsKey("extra"));                         // a non-float member is skipped, not an error
    }

    [Fact]
    public void WrittenMembers_AreByteIdenticalToNumpys()
    {
        using var tmp = new TempDir();
        GaussianStats numpy = GaussianStats.Load(Fixtures.Path("numpy_compressed.npz"));
        string mine = tmp.File("gen.npz");
        numpy.Save(mine);
        var expected = Members(Fixtures.Path("numpy_compressed.npz"));
        var actual = Members(mine);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected) Assert.Equal(bytes, actual[name]);
        // Data of a d = 2048 file starts at byte 128 of its member, as numpy's (docs/methods/metrics.md §4).
        byte[] big = Npz.NpyBytes(new NpyArray([2048, 2048], new double[2048 * 2048]));
        Assert.Equal(128 + 8L * 2048 * 2048, big.LongLength);
        Assert.Equal((byte)'\n', big[127]);
    }

    [Fact]
    public void BadFiles_AreOneLineInputErrors()
    {
        using var tmp = new TempDir();
        string noSigma = tmp.File("mu-only.npz");
        Npz.Write(noSigma, [("mu", new NpyArray([3], [1, 2, 3]))]);
        Assert.Contains("'mu' and 'sigma'", Assert.Throws<GenInputException>(() => GaussianStats.Load(noSigma)).Message);
        string shapes = tmp.File("shapes.npz");
        Npz.Write(shapes, [("mu", new NpyArray([3], [1, 2, 3])), ("sigma", new NpyArray([2, 2], [1, 0, 0, 1]))]);
        Assert.Contains("d×d", Assert.Throws<GenInputException>(() => GaussianStats.Load(shapes)).Message);
        string junk = tmp.File("junk.npz");
        File.WriteAllText(junk, "not a zip");
        Assert.Contains("not a valid .npz", Assert.Throws<GenInputException>(() => GaussianStats.Load(junk)).Message);
        Assert.Contains("does not exist", Assert.Throws<GenInputException>(() => GaussianStats.Load(tmp.File("none.npz"))).Message);
    }
}
