using System.Numerics;
using Compress.Engine.Models;

namespace Compress.Engine.Tests.Models;

public class PickleReaderTests
{
    // Both made by Python 3.11: pickle.dumps({'a': [1, -2, 3.5, 'x', (True, None)], 'big': 2**40, 'neg': -300,
    // 'huge': 2**70, 'b': b'\x01\x02'}, protocol=N).hex()
    private const string Protocol2 =
        "80027d71002858010000006171015d7102284b014afeffffff47400c0000000000005801000000787103884e86710465580300000062696771" +
        "058a0600000000000158030000006e656771064ad4feffff58040000006875676571078a09000000000000000040580100000062710863" +
        "5f636f646563730a656e636f64650a710958020000000102710a58060000006c6174696e31710b86710c52710d752e";

    private const string Protocol4 =
        "80049559000000000000007d94288c0161945d94284b014afeffffff47400c0000000000008c017894884e8694658c03626967948a06000000" +
        "0000018c036e6567944ad4feffff8c0468756765948a090000000000000000408c0162944302010294752e";

    [Theory]
    [InlineData(Protocol2)]
    [InlineData(Protocol4)]
    public void Load_PythonPickle_RebuildsContainersAndScalars(string hex)
    {
        var root = Assert.IsType<PickleDict>(Run(hex));
        Assert.Equal(["a", "big", "neg", "huge", "b"], root.Items.Select(kv => kv.Key));
        var list = Assert.IsType<List<object?>>(root.Get("a"));
        Assert.Equal(1L, list[0]);
        Assert.Equal(-2L, list[1]);
        Assert.Equal(3.5, list[2]);
        Assert.Equal("x", list[3]);
        Assert.Equal(new object?[] { true, null }, Assert.IsType<object?[]>(list[4]));
        Assert.Equal(1L << 40, root.Get("big"));
        Assert.Equal(-300L, root.Get("neg"));
        Assert.Equal(BigInteger.Pow(2, 70), root.Get("huge"));
    }

    [Fact]
    public void Load_Protocol2Bytes_BecomeOpaqueCallNotExecuted()
    {
        var calls = new List<PickleGlobal>();
        var root = Assert.IsType<PickleDict>(new PickleReader(Convert.FromHexString(Protocol2),
            (g, args) => { calls.Add(g); return new PickleObject(g, args); }, id => id).Load());
        var b = Assert.IsType<PickleObject>(root.Get("b"));
        Assert.Equal(new PickleGlobal("_codecs", "encode"), b.Callable);
        Assert.Equal(["\u0001\u0002", "latin1"], b.Args);
        Assert.Single(calls);
    }

    [Fact]
    public void Load_Protocol4Bytes_BecomeByteArray()
    {
        var root = Assert.IsType<PickleDict>(Run(Protocol4));
        Assert.Equal(new byte[] { 1, 2 }, root.Get("b"));
    }

    [Fact]
    public void Load_UnknownOpcode_ThrowsWithItsByteOffset()
    {
        // PROTO 2, EMPTY_DICT, then 0xff.
        var e = Assert.Throws<PickleFormatException>(() => Run("80027dff"));
        Assert.Equal(3, e.Offset);
        Assert.Contains("0xff", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TruncatedPickle_ThrowsInsteadOfReadingPastTheEnd()
    {
        // BINUNICODE announcing 16 bytes with 1 present.
        var e = Assert.Throws<PickleFormatException>(() => Run("8002581000000061"));
        Assert.Equal(7, e.Offset);
        Assert.Throws<PickleFormatException>(() => Run("80027d")); // no STOP
    }

    [Fact]
    public void Load_StackUnderflow_Throws()
    {
        Assert.Throws<PickleFormatException>(() => Run("800273")); // SETITEM on an empty stack
    }

    private static object? Run(string hex) =>
        new PickleReader(Convert.FromHexString(hex), (g, args) => new PickleObject(g, args), id => id).Load();
}
