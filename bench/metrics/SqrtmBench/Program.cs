// tr √(Σ1Σ2) for two 2048×2048 covariances (from N = 3000 random features): Gen's libtorch path
// (Frechet.TraceSqrtProduct, two float64 symmetric EVDs) vs the same algorithm on MathNet.Numerics 5.0.0's
// managed EVD. Interleaved repetitions; prints seconds and the relative difference of the two traces.
using System.Diagnostics;
using Gen.Metrics;
using MathNet.Numerics.LinearAlgebra;
using static TorchSharp.torch;

int d = args.Length > 0 ? int.Parse(args[0]) : 2048;
int reps = args.Length > 1 ? int.Parse(args[1]) : 2;
int threads = args.Length > 2 ? int.Parse(args[2]) : 2;
set_num_threads(threads);
MathNet.Numerics.Control.MaxDegreeOfParallelism = threads;
var g = new Generator(1);
Tensor Cov(double shift)
{
    Tensor x = rand([3000, d], dtype: ScalarType.Float64, generator: g) + shift * arange(d, dtype: ScalarType.Float64) / d;
    Tensor xc = x - x.mean([0]);
    return xc.t().mm(xc) / 2999;
}
Tensor s1 = Cov(0), s2 = Cov(1).mul(1.5);
Matrix<double> m1 = Matrix<double>.Build.DenseOfRowMajor(d, d, s1.contiguous().data<double>().ToArray());
Matrix<double> m2 = Matrix<double>.Build.DenseOfRowMajor(d, d, s2.contiguous().data<double>().ToArray());
Console.WriteLine($"d = {d}, threads = {threads}, MathNet managed provider");
for (int r = 0; r < reps; r++)
{
    var c1 = Stopwatch.StartNew();
    var (trTorch, _) = Frechet.TraceSqrtProduct(s1, s2);
    double torchS = c1.Elapsed.TotalSeconds;
    var c2 = Stopwatch.StartNew();
    var e1 = m1.Evd(Symmetricity.Symmetric);
    var lam = e1.EigenValues.Select(v => Math.Sqrt(Math.Max(v.Real, 0))).ToArray();
    var root = e1.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalArray(lam) * e1.EigenVectors.Transpose();
    var m = root * m2 * root;
    m = (m + m.Transpose()) / 2;
    double trMath = m.Evd(Symmetricity.Symmetric).EigenValues.Sum(v => Math.Sqrt(Math.Max(v.Real, 0)));
    double mathS = c2.Elapsed.TotalSeconds;
    Console.WriteLine($"rep {r}: libtorch {torchS:F2} s, MathNet {mathS:F2} s, ratio {mathS / torchS:F1}x, traces {trTorch:R} / {trMath:R}, rel diff {Math.Abs(trTorch - trMath) / trTorch:G3}");
}
