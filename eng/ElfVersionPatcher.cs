// Marks symbol-version requirements of an ELF shared library weak when the system library that should provide
// them is too old and no relocation of the library uses a symbol bound to them. Used by the build to make
// TorchSharp's libLibTorchSharp.so (built against GCC 13's libstdc++) load on Debian 12, whose libstdc++ stops at
// GLIBCXX_3.4.30. See README.md, "Troubleshooting". Compiled both into the build's inline task (eng/LibTorchSharpFix.targets)
// and into the unit tests, so it depends on nothing but the BCL.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Compress.Build
{
    /// <summary>One entry of an ELF file's version-needs table (<c>.gnu.version_r</c>).</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string name, ushort flags, ushort index, long flagsOffset)
        {
            File = file; Name = name; Flags = flags; Index = index; FlagsOffset = flagsOffset;
        }

        /// <summary>The needed library (DT_NEEDED name), e.g. <c>libstdc++.so.6</c>.</summary>
        public string File { get; }
        /// <summary>The version name, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
        public string Name { get; }
        public ushort Flags { get; }
        /// <summary>The version index symbols refer to in <c>.gnu.version</c>.</summary>
        public ushort Index { get; }
        /// <summary>File offset of <c>vna_flags</c>.</summary>
        public long FlagsOffset { get; }
        public bool IsWeak => (Flags & ElfFile.VerFlagWeak) != 0;
    }

    /// <summary>What <see cref="ElfVersionPatcher.Plan"/> decided for one missing version.</summary>
    public sealed class ElfPatchAction
    {
        public ElfPatchAction(ElfVersionNeed need, IReadOnlyList<string> symbols, IReadOnlyList<string> relocatedSymbols)
        {
            Need = need; Symbols = symbols; RelocatedSymbols = relocatedSymbols;
        }

        public ElfVersionNeed Need { get; }
        /// <summary>Dynamic symbols bound to the missing version.</summary>
        public IReadOnlyList<string> Symbols { get; }
        /// <summary>Those of <see cref="Symbols"/> that a relocation uses; patching is unsafe when this is not empty.</summary>
        public IReadOnlyList<string> RelocatedSymbols { get; }
        public bool IsSafe => RelocatedSymbols.Count == 0;
    }

    /// <summary>A minimal reader of the parts of a 64-bit little-endian ELF file that symbol versioning uses.</summary>
    public sealed class ElfFile
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtRela = 4, ShtDynsym = 11, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;

        private readonly byte[] _bytes;
        private readonly List<Section> _sections = new List<Section>();

        private sealed class Section
        {
            public uint Type; public long Offset; public long Size; public uint Link; public uint Info; public long EntSize;
        }

        public ElfFile(byte[] bytes, string path)
        {
            _bytes = bytes;
            Path = path;
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                throw new InvalidDataException($"{path}: not an ELF file");
            if (bytes[4] != 2 || bytes[5] != 1)
                throw new InvalidDataException($"{path}: only 64-bit little-endian ELF files are supported");
            long shoff = (long)U64(0x28);
            int shentsize = U16(0x3A), shnum = U16(0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > bytes.Length)
                throw new InvalidDataException($"{path}: section header table out of range");
            for (int i = 0; i < shnum; i++)
            {
                long o = shoff + (long)i * shentsize;
                _sections.Add(new Section
                {
                    Type = U32(o + 4), Offset = (long)U64(o + 24), Size = (long)U64(o + 32),
                    Link = U32(o + 40), Info = U32(o + 44), EntSize = (long)U64(o + 56),
                });
            }
        }

        public string Path { get; }

        public static ElfFile Load(string path) => new ElfFile(System.IO.File.ReadAllBytes(path), path);

        /// <summary>The raw bytes (patches are applied to this buffer).</summary>
        public byte[] Bytes => _bytes;

        /// <summary>Every version this file needs from other libraries.</summary>
        public IReadOnlyList<ElfVersionNeed> VersionNeeds()
        {
            var result = new List<ElfVersionNeed>();
            foreach (var s in _sections.Where(s => s.Type == ShtGnuVerneed))
            {
                var strtab = _sections[(int)s.Link];
                long vn = s.Offset;
                for (int guard = 0; guard < 10000; guard++)
                {
                    ushort cnt = U16(vn + 2);
                    string file = Str(strtab, U32(vn + 4));
                    long aux = vn + U32(vn + 8);
                    for (int j = 0; j < cnt; j++)
                    {
                        result.Add(new ElfVersionNeed(file, Str(strtab, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                        uint next = U32(aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    uint vnNext = U32(vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }
            }
            return result;
        }

        /// <summary>Every version name this file defines (<c>.gnu.version_d</c>).</summary>
        public ISet<string> VersionDefinitions()
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in _sections.Where(s => s.Type == ShtGnuVerdef))
            {
                var strtab = _sections[(int)s.Link];
                long vd = s.Offset;
                for (int guard = 0; guard < 100000; guard++)
                {
                    ushort cnt = U16(vd + 6);
                    long aux = vd + U32(vd + 12);
                    if (cnt > 0) result.Add(Str(strtab, U32(aux)));
                    uint next = U32(vd + 16);
                    if (next == 0) break;
                    vd += next;
                }
            }
            return result;
        }

        /// <summary>Dynamic symbols (by index) whose version index is <paramref name="versionIndex"/>.</summary>
        public IReadOnlyDictionary<uint, string> SymbolsWithVersion(ushort versionIndex)
        {
            var result = new Dictionary<uint, string>();
            var dynsym = _sections.FirstOrDefault(s => s.Type == ShtDynsym);
            var versym = _sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
            if (dynsym == null || versym == null) return result;
            var strtab = _sections[(int)dynsym.Link];
            long count = dynsym.Size / 24;
            for (uint i = 0; i < count; i++)
            {
                if ((U16(versym.Offset + 2L * i) & 0x7fff) != versionIndex) continue;
                result[i] = Str(strtab, U32(dynsym.Offset + 24L * i));
            }
            return result;
        }

        /// <summary>Indices of dynamic symbols that any RELA relocation refers to.</summary>
        public ISet<uint> RelocatedSymbolIndices()
        {
            var result = new HashSet<uint>();
            foreach (var s in _sections.Where(s => s.Type == ShtRela))
            {
                long n = s.Size / 24;
                for (long i = 0; i < n; i++) result.Add((uint)(U64(s.Offset + 24 * i + 8) >> 32));
            }
            return result;
        }

        internal void SetFlags(ElfVersionNeed need, ushort flags)
        {
            _bytes[need.FlagsOffset] = (byte)flags;
            _bytes[need.FlagsOffset + 1] = (byte)(flags >> 8);
        }

        private ushort U16(long o) => (ushort)(_bytes[o] | _bytes[o + 1] << 8);
        private uint U32(long o) => BitConverter.ToUInt32(_bytes, (int)o);
        private ulong U64(long o) => BitConverter.ToUInt64(_bytes, (int)o);

        private string Str(Section strtab, uint offset)
        {
            long start = strtab.Offset + offset, end = start;
            while (end < _bytes.Length && _bytes[end] != 0) end++;
            return Encoding.ASCII.GetString(_bytes, (int)start, (int)(end - start));
        }
    }

    /// <summary>Decides and applies the weak-version patch.</summary>
    public static class ElfVersionPatcher
    {
        /// <summary>
        /// For each version that <paramref name="library"/> needs from <paramref name="providerName"/> and that the
        /// provider (<paramref name="provider"/>) does not define, lists the symbols bound to it and whether any
        /// relocation uses them. Versions already marked weak are skipped.
        /// </summary>
        public static IReadOnlyList<ElfPatchAction> Plan(ElfFile library, string providerName, ElfFile provider)
        {
            var defined = provider.VersionDefinitions();
            var relocated = library.RelocatedSymbolIndices();
            var actions = new List<ElfPatchAction>();
            foreach (var need in library.VersionNeeds())
            {
                if (need.File != providerName || need.IsWeak || defined.Contains(need.Name)) continue;
                var symbols = library.SymbolsWithVersion(need.Index);
                var used = symbols.Where(kv => relocated.Contains(kv.Key)).Select(kv => kv.Value).ToList();
                actions.Add(new ElfPatchAction(need, symbols.Values.ToList(), used));
            }
            return actions;
        }

        /// <summary>Marks every planned version weak. Throws when any action is unsafe; nothing is changed then.</summary>
        public static void Apply(ElfFile library, IReadOnlyList<ElfPatchAction> actions)
        {
            var unsafeAction = actions.FirstOrDefault(a => !a.IsSafe);
            if (unsafeAction != null)
                throw new InvalidOperationException(
                    $"{library.Path}: needs {unsafeAction.Need.Name} from {unsafeAction.Need.File}, which the system library lacks, " +
                    $"and relocations use {string.Join(", ", unsafeAction.RelocatedSymbols)}; marking it weak would not be safe. " +
                    "Install a newer libstdc++ (GCC 13 or later).");
            foreach (var a in actions) library.SetFlags(a.Need, (ushort)(a.Need.Flags | ElfFile.VerFlagWeak));
        }

        /// <summary>The first of the usual library folders that holds <paramref name="name"/>, or null.</summary>
        public static string? FindSystemLibrary(string name)
        {
            string[] dirs =
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            };
            return dirs.Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(System.IO.File.Exists);
        }

        /// <summary>
        /// Patches <paramref name="libraryPath"/> in place (through a temporary file, keeping its timestamp) when
        /// needed. Returns a sentence describing what was done.
        /// </summary>
        public static string PatchFile(string libraryPath, string providerName, string providerPath)
        {
            var library = ElfFile.Load(libraryPath);
            var actions = Plan(library, providerName, ElfFile.Load(providerPath));
            if (actions.Count == 0)
                return $"{libraryPath}: nothing to do ({providerPath} provides every version it needs, or they are already weak)";
            Apply(library, actions);
            var stamp = System.IO.File.GetLastWriteTimeUtc(libraryPath);
            var temp = libraryPath + ".patching";
            System.IO.File.WriteAllBytes(temp, library.Bytes);
            System.IO.File.SetLastWriteTimeUtc(temp, stamp);
            System.IO.File.Replace(temp, libraryPath, null);
            return $"{libraryPath}: marked {string.Join(", ", actions.Select(a => a.Need.Name))} weak " +
                   $"({providerPath} lacks them; no relocation uses {string.Join(", ", actions.SelectMany(a => a.Symbols).DefaultIfEmpty("any symbol"))})";
        }
    }

#if !ELF_PATCHER_NO_TASK
    /// <summary>MSBuild inline task: patches each library in <see cref="Libraries"/> when the system needs it.</summary>
    public sealed class PatchElfVersionNeeds : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public string ProviderName { get; set; } = "libstdc++.so.6";

        /// <summary>Optional explicit path of the provider; found in the usual folders otherwise.</summary>
        public string? ProviderPath { get; set; }

        public override bool Execute()
        {
            var provider = string.IsNullOrEmpty(ProviderPath) ? ElfVersionPatcher.FindSystemLibrary(ProviderName) : ProviderPath;
            if (provider == null)
            {
                Log.LogWarning($"Compress: {ProviderName} not found in the usual library folders; libLibTorchSharp.so left as it is.");
                return true;
            }
            foreach (var item in Libraries)
            {
                try
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        "Compress: " + ElfVersionPatcher.PatchFile(item.ItemSpec, ProviderName, provider));
                }
                catch (Exception e) when (e is InvalidOperationException || e is InvalidDataException || e is IOException)
                {
                    Log.LogError(null, "CMP0002", null, item.ItemSpec, 0, 0, 0, 0, "Compress: " + e.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
