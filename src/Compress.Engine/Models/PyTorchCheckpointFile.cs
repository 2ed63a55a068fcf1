using System.Globalization;
using System.IO.Compression;
using System.Text;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Models;

/// <summary>
/// Reads a state dict from a PyTorch zip checkpoint (<c>torch.save</c> since PyTorch 1.6: <c>archive/data.pkl</c>
/// plus one <c>archive/data/&lt;key&gt;</c> entry per storage) without libtorch, using <see cref="PickleReader"/>, which
/// never executes code from the file. Views are honoured (storage offset and strides are gathered into contiguous
/// data), shared storages are read once.
/// </summary>
internal static class PyTorchCheckpointFile
{
    /// <summary>Keys under which training scripts commonly nest the state dict, tried in this order.</summary>
    private static readonly string[] WrapperKeys = ["state_dict", "model_state_dict", "model", "net"];

    private sealed record StorageRef(string Key, string? DType, string TypeName, long ElementCount);

    private sealed record PickledTensor(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    /// <summary>
    /// The tensors of the state dict in file order. The state dict is the top-level dict when it holds tensors,
    /// otherwise the dict under <c>state_dict</c>, <c>model_state_dict</c>, <c>model</c> or <c>net</c>. Entries whose
    /// value is not a tensor are skipped.
    /// </summary>
    public static List<(string Key, TensorData Tensor)> Read(string path)
    {
        try
        {
            using var archive = ZipFile.OpenRead(path);
            return Read(path, archive);
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(path, $"it is not a readable zip archive ({e.Message.TrimEnd('.')})");
        }
    }

    private static List<(string, TensorData)> Read(string path, ZipArchive archive)
    {
        var pickleEntry = archive.Entries
            .Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            .FirstOrDefault() ?? throw Corrupt(path, "the zip archive has no <name>/data.pkl, so it is not a torch.save file");
        string prefix = pickleEntry.FullName[..^"data.pkl".Length];

        var byteOrder = archive.GetEntry(prefix + "byteorder");
        if (byteOrder is not null)
        {
            string order = Encoding.ASCII.GetString(ReadEntry(path, byteOrder)).Trim();
            if (order != "little")
                throw Corrupt(path, $"its tensors are stored in '{order}' byte order; only little-endian is supported");
        }

        object? root;
        try
        {
            root = new PickleReader(ReadEntry(path, pickleEntry), Reduce, PersistentLoad).Load();
        }
        catch (PickleFormatException e)
        {
            throw Corrupt(path, $"{pickleEntry.FullName} is malformed at byte offset " +
                                $"{e.Offset.ToString(CultureInfo.InvariantCulture)} of that entry: {e.Message}");
        }

        var stateDict = FindStateDict(root) ?? throw new CompressException(DiagnosticCode.CorruptWeights,
            $"Weights file '{path}' holds no state dict (no dict of tensors at the top level or under " +
            $"{string.Join(", ", WrapperKeys.Select(k => "'" + k + "'"))}){DescribeTopLevel(root)}.", path,
            "Save the weights with torch.save(model.state_dict(), path).");

        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var result = new List<(string, TensorData)>();
        foreach (var (keyObject, value) in stateDict.Items)
        {
            if (keyObject is not string key || value is not PickledTensor tensor) continue;
            result.Add((key, Materialise(path, archive, prefix, key, tensor, storages)));
        }
        return result;
    }

    private static TensorData Materialise(string path, ZipArchive archive, string prefix, string key, PickledTensor t,
        Dictionary<string, byte[]> storages)
    {
        var s = t.Storage;
        if (s.DType is null)
            throw new CompressException(DiagnosticCode.UnsupportedDType,
                $"Tensor '{key}' in '{path}' is stored as {s.TypeName}, which is not supported.", path,
                "Save float32 (or float16/bfloat16/float64) weights.");
        int elementSize = DTypes.SizeOf(s.DType);

        if (!storages.TryGetValue(s.Key, out var storage))
        {
            string entryName = prefix + "data/" + s.Key;
            var entry = archive.GetEntry(entryName)
                        ?? throw Corrupt(path, $"tensor '{key}' refers to storage '{entryName}', which is missing");
            storage = ReadEntry(path, entry);
            storages[s.Key] = storage;
        }
        long storageElements = storage.LongLength / elementSize;
        if (storageElements < s.ElementCount)
            throw Corrupt(path, FormattableString.Invariant(
                $"storage '{s.Key}' of tensor '{key}' has {storage.LongLength} bytes, fewer than its {s.ElementCount} ") +
                $"{s.DType} elements need");

        if (t.Shape.Length != t.Stride.Length || t.Offset < 0 || t.Shape.Any(d => d < 0) || t.Stride.Any(d => d < 0))
            throw Corrupt(path, $"tensor '{key}' has an invalid shape {ShapeText.Format(t.Shape)}, stride " +
                                $"{ShapeText.Format(t.Stride)} or storage offset");
        long count = 1, last = t.Offset;
        try
        {
            for (int d = 0; d < t.Shape.Length; d++)
            {
                count = checked(count * t.Shape[d]);
                if (t.Shape[d] > 0) last = checked(last + (t.Shape[d] - 1) * t.Stride[d]);
            }
            _ = checked(count * elementSize);
        }
        catch (OverflowException)
        {
            throw Corrupt(path, $"tensor '{key}' has an absurd shape {ShapeText.Format(t.Shape)}");
        }
        if (count > 0 && last >= storageElements)
            throw Corrupt(path, FormattableString.Invariant(
                $"tensor '{key}' (shape {ShapeText.Format(t.Shape)}, stride {ShapeText.Format(t.Stride)}, offset {t.Offset}) ") +
                FormattableString.Invariant($"reaches element {last} of a {storageElements}-element storage"));
        if (count * elementSize > Array.MaxLength)
            throw Corrupt(path, $"tensor '{key}' is larger than 2 GiB, which is not supported");
        // A view can only select from its storage: more elements than the storage holds means overlapping strides (a
        // stride-0 expand), which would turn a few bytes of file into gigabytes here. state_dict() never saves one.
        if (count > storageElements)
            throw Corrupt(path, FormattableString.Invariant(
                $"tensor '{key}' (shape {ShapeText.Format(t.Shape)}, stride {ShapeText.Format(t.Stride)}) has {count} elements but its storage only {storageElements}; ") +
                "an expanded (stride-0) or overlapping view is not a saved parameter");

        return new TensorData(s.DType, t.Shape, Gather(storage, elementSize, t, count));
    }

    /// <summary>Copies a strided view into row-major contiguous bytes.</summary>
    private static byte[] Gather(byte[] storage, int elementSize, PickledTensor t, long count)
    {
        var result = new byte[count * elementSize];
        if (count == 0) return result;
        int rank = t.Shape.Length;

        bool contiguous = true;
        long expectedStride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            if (t.Shape[d] != 1 && t.Stride[d] != expectedStride) contiguous = false;
            expectedStride *= t.Shape[d];
        }
        if (contiguous)
        {
            Array.Copy(storage, t.Offset * elementSize, result, 0, result.LongLength);
            return result;
        }

        var index = new long[rank];
        for (long i = 0; i < count; i++)
        {
            long source = t.Offset;
            for (int d = 0; d < rank; d++) source += index[d] * t.Stride[d];
            Array.Copy(storage, source * elementSize, result, i * elementSize, elementSize);
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d]) break;
                index[d] = 0;
            }
        }
        return result;
    }

    /// <summary>Builds what torch.save's pickle asks for: tensors, parameters (as their data) and ordered dicts.</summary>
    private static object? Reduce(PickleGlobal callable, object?[] args)
    {
        switch (callable.Module, callable.Name)
        {
            case ("collections", "OrderedDict"):
                return new PickleDict();
            case ("torch._utils", "_rebuild_tensor" or "_rebuild_tensor_v2"):
                if (args.Length >= 4 && args[0] is StorageRef storage && args[1] is long offset
                    && ToLongs(args[2]) is { } shape && ToLongs(args[3]) is { } stride)
                    return new PickledTensor(storage, offset, shape, stride);
                throw new PickleFormatException($"unexpected arguments to {callable}", 0);
            case ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state"):
                return args.Length > 0 ? args[0] : null;
            default:
                // Never called either way; but a state dict has no business naming a function that runs commands, loads
                // code or touches files: such a file is refused, not quietly read around.
                if (RunsCode(callable))
                    throw new PickleFormatException(
                        $"it calls {callable.Module}.{callable.Name}, which a state dict does not contain (Compress runs no code from a checkpoint and refuses such files)", 0);
                return new PickleObject(callable, args);
        }
    }

    private static readonly HashSet<string> CodeModules = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "importlib", "runpy", "pickle", "marshal", "webbrowser",
        "code", "pty", "ctypes", "multiprocessing", "urllib.request", "http.client", "io", "pathlib", "tempfile", "types",
    };

    private static readonly HashSet<string> CodeBuiltins = new(StringComparer.Ordinal)
    {
        "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals", "vars", "input", "breakpoint",
    };

    /// <summary>Whether <paramref name="callable"/> could run code or reach the system if a pickle loader called it.</summary>
    private static bool RunsCode(PickleGlobal callable) =>
        CodeModules.Contains(callable.Module) || CodeModules.Contains(callable.Module.Split('.')[0])
        || (callable.Module is "builtins" or "__builtin__" && CodeBuiltins.Contains(callable.Name));

    /// <summary>torch.save's persistent ids: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
    private static StorageRef PersistentLoad(object? id)
    {
        if (id is object?[] { Length: >= 5 } t && t[0] is "storage" && t[1] is PickleGlobal type && t[2] is string key
            && t[4] is long count && count >= 0)
            return new StorageRef(key, DTypes.FromStorageName(type.Name), type.ToString(), count);
        throw new PickleFormatException("unsupported persistent id (not a torch storage)", 0);
    }

    private static long[]? ToLongs(object? value)
    {
        if (value is not object?[] items) return null;
        var result = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is not long v) return null;
            result[i] = v;
        }
        return result;
    }

    private static PickleDict? FindStateDict(object? root)
    {
        var dict = AsDict(root);
        if (dict is null) return null;
        if (dict.Items.Any(kv => kv.Value is PickledTensor)) return dict;
        foreach (string key in WrapperKeys)
        {
            var inner = AsDict(dict.Get(key));
            if (inner is not null && inner.Items.Any(kv => kv.Value is PickledTensor)) return inner;
        }
        return null;
    }

    private static PickleDict? AsDict(object? value) => value switch
    {
        PickleDict d => d,
        PickleObject o when o.Dict.Items.Count > 0 => o.Dict,
        _ => null,
    };

    private static string DescribeTopLevel(object? root)
    {
        var dict = AsDict(root);
        if (dict is null) return "";
        var keys = dict.Items.Select(kv => kv.Key as string).OfType<string>().Take(10).ToList();
        return keys.Count == 0 ? "" : "; top-level keys: " + string.Join(", ", keys);
    }

    /// <summary>The most a deflate stream can expand (its limit is about 1032:1).</summary>
    private const long MaxDeflateRatio = 1100;

    private static byte[] ReadEntry(string path, ZipArchiveEntry entry)
    {
        if (entry.Length > Array.MaxLength)
            throw Corrupt(path, $"entry '{entry.FullName}' is larger than 2 GiB, which is not supported");
        // Deflate cannot expand data more than about 1032:1: a larger declared size is a lie (a zip bomb), refused before
        // the buffer is allocated.
        if (entry.Length > entry.CompressedLength * MaxDeflateRatio + 1024)
            throw Corrupt(path, FormattableString.Invariant(
                $"entry '{entry.FullName}' declares {entry.Length} bytes from {entry.CompressedLength} compressed bytes, more than deflate can produce"));
        var buffer = new byte[entry.Length];
        try
        {
            using var stream = entry.Open();
            stream.ReadExactly(buffer);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw Corrupt(path, $"entry '{entry.FullName}' cannot be read ({e.Message.TrimEnd('.')})");
        }
        return buffer;
    }

    private static CompressException Corrupt(string path, string what) =>
        new(DiagnosticCode.CorruptWeights, $"Weights file '{path}' is not a valid PyTorch checkpoint: {what}.", path,
            "Re-save it with torch.save(model.state_dict(), path) (PyTorch 1.6 or later), or use safetensors.");
}
