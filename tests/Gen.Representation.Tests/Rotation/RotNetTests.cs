using Gen.Representation.Rotation;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Rotation;

public sealed class RotNetTests
{
    [Fact]
    public void Rotate_HandValues_LabelsAndRot4Identity()
    {
        // docs/methods/representation.md §7 check 4: [[1,2],[3,4]] → k=1 [[2,4],[1,3]], k=2 [[4,3],[2,1]], k=3 [[3,1],[4,2]] (counter-clockwise).
        Tensor x = tensor(new float[] { 1, 2, 3, 4 }, [1, 1, 2, 2]);
        var (images, labels) = RotNetMethod.Rotate(x);
        Assert.Equal(new long[] { 4, 1, 2, 2 }, images.shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 2, 4, 1, 3, 4, 3, 2, 1, 3, 1, 4, 2 }, images.data<float>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 3 }, labels.data<long>().ToArray());
        Tensor r = x;
        for (int i = 0; i < 4; i++) r = r.rot90(1, (2, 3));
        Assert.True(r.Same(x));
    }

    [Fact]
    public void Rotate_BatchOfB_Gives4BInputs_WithLabelsPerImage()
    {
        Tensor x = rand(3, 1, 5, 5);
        var (images, labels) = RotNetMethod.Rotate(x);
        Assert.Equal(12, images.shape[0]);
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3 }, labels.data<long>().ToArray());
        Assert.True(images[4].Same(x[1].rot90(1, (1, 2))));
    }
}
