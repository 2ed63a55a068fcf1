using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Compress.Engine.Models;

/// <summary>A class or function a pickle names (<c>GLOBAL module name</c>); never resolved or called.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => Module + "." + Name;
}

/// <summary>A dict from a pickle, keeping insertion order (PyTorch state dicts are ordered).</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> _index = [];

    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public void Set(object? key, object? value)
    {
        if (key is not null && _index.TryGetValue(key, out int i))
        {
            Items[i] = new(key, value);
            return;
        }
        if (key is not null) _index[key] = Items.Count;
        Items.Add(new(key, value));
    }

    public object? Get(string key) => _index.TryGetValue(key, out int i) ? Items[i].Value : null;
}

/// <summary>
/// Any other object a pickle builds (a call of <see cref="Callable"/> with <see cref="Args"/>), kept opaque. Items
/// and appends aimed at it (dict and list subclasses) are collected so that parsing can go on.
/// </summary>
internal sealed class PickleObject(PickleGlobal? callable, object?[] args)
{
    public PickleGlobal? Callable { get; } = callable;

    public object?[] Args { get; } = args;

    public PickleDict Dict { get; } = new();

    public List<object?> List { get; } = [];
}

/// <summary>A malformed or unsupported pickle; <see cref="Offset"/> is the byte offset in the pickle stream.</summary>
internal sealed class PickleFormatException(string message, long offset) : Exception(message)
{
    public long Offset { get; } = offset;
}

/// <summary>
/// A small, safe pickle interpreter for PyTorch checkpoints (protocols 2 to 5, the subset <c>torch.save</c> and
/// ordinary Python containers produce). It never imports or runs anything: <c>GLOBAL</c> yields a
/// <see cref="PickleGlobal"/> name and every call (<c>REDUCE</c>, <c>NEWOBJ</c>) is handed to the caller's
/// <c>reduce</c> callback, which builds tensors and dicts or returns an opaque <see cref="PickleObject"/>.
/// Containers: dict -&gt; <see cref="PickleDict"/>, list -&gt; <c>List&lt;object?&gt;</c>, tuple -&gt;
/// <c>object?[]</c>; ints -&gt; <see cref="long"/> (or <see cref="BigInteger"/>), floats -&gt; <see cref="double"/>.
/// </summary>
internal sealed class PickleReader
{
    private static readonly object Mark = new();

    private readonly byte[] _data;
    private readonly Func<PickleGlobal, object?[], object?> _reduce;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    public PickleReader(byte[] data, Func<PickleGlobal, object?[], object?> reduce, Func<object?, object?> persistentLoad)
    {
        _data = data;
        _reduce = reduce;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Runs the pickle to its STOP opcode and returns the top object.</summary>
    public object? Load()
    {
        while (true)
        {
            int at = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO n
                case 0x95: Take(8); break; // FRAME length: frames are just a hint for buffered readers
                case (byte)'.': // STOP
                    if (_stack.Count != 1) throw Error($"STOP with {_stack.Count} items on the stack", at);
                    return _stack[0];

                case (byte)'(': _marks.Push(_stack.Count); _stack.Add(Mark); break; // MARK
                case (byte)'0': Pop(at); break; // POP
                case (byte)'1': PopMark(at); break; // POP_MARK
                case (byte)'2': Push(Peek(at)); break; // DUP

                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case (byte)'K': Push((long)ReadByte()); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: Push(ReadLong(ReadLength(4, at))); break; // LONG4
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                case (byte)'I': Push(ParseTextInt(ReadLine(), at)); break; // INT (protocol 0)

                case (byte)'X': Push(Encoding.UTF8.GetString(Take(ReadLength(4, at)))); break; // BINUNICODE
                case 0x8c: Push(Encoding.UTF8.GetString(Take(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(Take(ReadLength(8, at)))); break; // BINUNICODE8
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(ReadLength(4, at)))); break; // BINSTRING
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break; // SHORT_BINSTRING
                case (byte)'B': Push(Take(ReadLength(4, at)).ToArray()); break; // BINBYTES
                case (byte)'C': Push(Take(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: Push(Take(ReadLength(8, at)).ToArray()); break; // BINBYTES8

                case (byte)')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case (byte)'t': Push(PopMark(at).ToArray()); break; // TUPLE
                case 0x85: Push(new[] { Pop(at) }); break; // TUPLE1
                case 0x86: { var b = Pop(at); var a = Pop(at); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(at); var b = Pop(at); var a = Pop(at); Push(new[] { a, b, c }); break; } // TUPLE3
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)'l': Push(PopMark(at)); break; // LIST
                case (byte)'a': { var v = Pop(at); Append(Peek(at), [v], at); break; } // APPEND
                case (byte)'e': { var items = PopMark(at); Append(Peek(at), items, at); break; } // APPENDS
                case 0x8f: Push(new List<object?>()); break; // EMPTY_SET (as a list)
                case 0x90: { var items = PopMark(at); Append(Peek(at), items, at); break; } // ADDITEMS
                case 0x91: Push(PopMark(at)); break; // FROZENSET (as a list)
                case (byte)'}': Push(new PickleDict()); break; // EMPTY_DICT
                case (byte)'d': // DICT
                {
                    var items = PopMark(at);
                    var dict = new PickleDict();
                    SetItems(dict, items, at);
                    Push(dict);
                    break;
                }
                case (byte)'s': { var v = Pop(at); var k = Pop(at); SetItems(Peek(at), [k, v], at); break; } // SETITEM
                case (byte)'u': { var items = PopMark(at); SetItems(Peek(at), items, at); break; } // SETITEMS

                case (byte)'c': Push(new PickleGlobal(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop(at) as string;
                    var module = Pop(at) as string;
                    if (name is null || module is null) throw Error("STACK_GLOBAL without module and name strings", at);
                    Push(new PickleGlobal(module, name));
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    var args = Pop(at) as object?[] ?? throw Error("REDUCE arguments are not a tuple", at);
                    Push(Call(Pop(at), args, at));
                    break;
                }
                case 0x81: // NEWOBJ
                {
                    var args = Pop(at) as object?[] ?? throw Error("NEWOBJ arguments are not a tuple", at);
                    Push(Call(Pop(at), args, at));
                    break;
                }
                case 0x92: // NEWOBJ_EX
                {
                    Pop(at); // kwargs
                    var args = Pop(at) as object?[] ?? throw Error("NEWOBJ_EX arguments are not a tuple", at);
                    Push(Call(Pop(at), args, at));
                    break;
                }
                case (byte)'b': Pop(at); Peek(at); break; // BUILD: object state (e.g. a state dict's _metadata) is not needed
                case (byte)'Q': Push(PersistentLoad(Pop(at), at)); break; // BINPERSID

                case (byte)'q': _memo[ReadByte()] = Peek(at); break; // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(at); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(at); break; // MEMOIZE
                case (byte)'h': Push(Memo(ReadByte(), at)); break; // BINGET
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)), at)); break; // LONG_BINGET

                default:
                    throw Error($"unsupported pickle opcode 0x{op.ToString("x2", CultureInfo.InvariantCulture)}", at);
            }
        }
    }

    private object? Call(object? callable, object?[] args, int at)
    {
        if (callable is not PickleGlobal g) throw Error("call of something that is not a global name", at);
        try
        {
            return _reduce(g, args);
        }
        catch (PickleFormatException e)
        {
            throw Error(e.Message, at); // the callback does not know where it is
        }
    }

    private object? PersistentLoad(object? id, int at)
    {
        try
        {
            return _persistentLoad(id);
        }
        catch (PickleFormatException e)
        {
            throw Error(e.Message, at);
        }
    }

    private static void Append(object? target, List<object?> items, int at)
    {
        switch (target)
        {
            case List<object?> list: list.AddRange(items); break;
            case PickleObject obj: obj.List.AddRange(items); break;
            default: throw Error("append to something that is not a list", at);
        }
    }

    private static void SetItems(object? target, List<object?> items, int at)
    {
        if (items.Count % 2 != 0) throw Error("odd number of items for a dict", at);
        var dict = target switch
        {
            PickleDict d => d,
            PickleObject o => o.Dict,
            _ => throw Error("set item on something that is not a dict", at),
        };
        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
    }

    private object? Memo(long key, int at) =>
        _memo.TryGetValue(key, out var value) ? value : throw Error($"memo entry {key} used before it was stored", at);

    private void Push(object? value) => _stack.Add(value);

    private object? Pop(int at)
    {
        if (_stack.Count == 0 || ReferenceEquals(_stack[^1], Mark)) throw Error("stack underflow", at);
        var value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek(int at) =>
        _stack.Count == 0 || ReferenceEquals(_stack[^1], Mark) ? throw Error("stack underflow", at) : _stack[^1];

    private List<object?> PopMark(int at)
    {
        if (_marks.Count == 0) throw Error("no MARK on the stack", at);
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private byte ReadByte()
    {
        if (_pos >= _data.Length) throw Error("unexpected end of the pickle (no STOP)", _pos);
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || count > _data.Length - _pos)
            throw Error($"a {count}-byte field runs past the end of the pickle", _pos);
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private long ReadLength(int bytes, int at)
    {
        var span = Take(bytes);
        long n = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(span) : BinaryPrimitives.ReadInt64LittleEndian(span);
        return n < 0 ? throw Error("negative length", at) : n;
    }

    private object ReadLong(long byteCount)
    {
        var bytes = Take(byteCount);
        if (bytes.Length == 0) return 0L;
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    private string ReadLine()
    {
        int start = _pos;
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Error("unterminated text field", start);
        _pos = end + 1;
        return Encoding.UTF8.GetString(_data, start, end - start);
    }

    private static object ParseTextInt(string text, int at) => text switch
    {
        "00" => false,
        "01" => true,
        _ => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw Error($"bad INT '{text}'", at),
    };

    private static PickleFormatException Error(string message, long at) => new(message, at);
}
