// MSBuild inline task (RoslynCodeTaskFactory, compiled against netstandard): marks the
// GLIBCXX_3.4.32 requirement of libLibTorchSharp.so weak. See Directory.Build.targets and
// docs/platform.md §2 for why this is safe. ELF layout: System V gABI, "Symbol Versioning" (LSB 5.0).
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class GenMarkGlibcxxWeak : Task
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string Marker = "_ZSt21ios_base_library_initv";
    private const uint ShtRela = 4, ShtRel = 9, ShtDynsym = 11;
    private const uint ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        foreach (ITaskItem item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                string outcome = Patch(path);
                Log.LogMessage(MessageImportance.Normal, "GenMarkGlibcxxWeak: " + path + ": " + outcome);
            }
            catch (Exception e)
            {
                Log.LogError("GenMarkGlibcxxWeak: cannot patch " + path + ": " + e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    private struct Section
    {
        public uint Type, Link;
        public long Offset, Size, EntSize;
    }

    private static string Patch(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");

        long shoff = (long)BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A);
        int shnum = BitConverter.ToUInt16(b, 0x3C);
        var sections = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            sections[i] = new Section
            {
                Type = BitConverter.ToUInt32(b, (int)h + 4),
                Offset = (long)BitConverter.ToUInt64(b, (int)h + 0x18),
                Size = (long)BitConverter.ToUInt64(b, (int)h + 0x20),
                Link = BitConverter.ToUInt32(b, (int)h + 0x28),
                EntSize = (long)BitConverter.ToUInt64(b, (int)h + 0x38),
            };
        }

        // Find the Vernaux entry that names GLIBCXX_3.4.32.
        int flagsOffset = -1;
        ushort versionIndex = 0;
        for (int s = 0; s < shnum && flagsOffset < 0; s++)
        {
            if (sections[s].Type != ShtGnuVerneed) continue;
            long strtab = sections[(int)sections[s].Link].Offset;
            long vn = sections[s].Offset;
            long end = sections[s].Offset + sections[s].Size;
            while (vn < end && flagsOffset < 0)
            {
                ushort count = BitConverter.ToUInt16(b, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(b, (int)vn + 8);
                for (int a = 0; a < count; a++)
                {
                    uint name = BitConverter.ToUInt32(b, (int)aux + 8);
                    if (CString(b, strtab + name) == Version)
                    {
                        flagsOffset = (int)aux + 4;
                        versionIndex = (ushort)(BitConverter.ToUInt16(b, (int)aux + 6) & 0x7fff);
                        break;
                    }
                    uint nextAux = BitConverter.ToUInt32(b, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(b, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        if (flagsOffset < 0) return "no " + Version + " requirement, nothing to do";
        ushort flags = BitConverter.ToUInt16(b, flagsOffset);
        if ((flags & VerFlgWeak) != 0) return "already weak";

        // Safety: the version must cover exactly the marker symbol, and no relocation may use it.
        int dynsym = Array.FindIndex(sections, x => x.Type == ShtDynsym);
        int versym = Array.FindIndex(sections, x => x.Type == ShtGnuVersym);
        if (dynsym < 0 || versym < 0) throw new InvalidDataException("no .dynsym or .gnu.version section");
        long dynstr = sections[(int)sections[dynsym].Link].Offset;
        long symCount = sections[dynsym].Size / 24;
        long markerIndex = -1;
        for (long i = 0; i < symCount; i++)
        {
            int v = BitConverter.ToUInt16(b, (int)(sections[versym].Offset + 2 * i)) & 0x7fff;
            if (v != versionIndex) continue;
            uint nameOff = BitConverter.ToUInt32(b, (int)(sections[dynsym].Offset + 24 * i));
            string name = CString(b, dynstr + nameOff);
            if (name != Marker)
                throw new InvalidDataException("symbol " + name + " also needs " + Version + "; refusing to weaken it");
            markerIndex = i;
        }
        for (int s = 0; s < shnum && markerIndex >= 0; s++)
        {
            if (sections[s].Type != ShtRela && sections[s].Type != ShtRel) continue;
            if (sections[s].Link != dynsym) continue;
            long entSize = sections[s].Type == ShtRela ? 24 : 16;
            for (long r = sections[s].Offset; r < sections[s].Offset + sections[s].Size; r += entSize)
            {
                ulong info = BitConverter.ToUInt64(b, (int)r + 8);
                if ((long)(info >> 32) == markerIndex)
                    throw new InvalidDataException(Marker + " is relocated; refusing to weaken " + Version);
            }
        }

        flags |= VerFlgWeak;
        b[flagsOffset] = (byte)(flags & 0xff);
        b[flagsOffset + 1] = (byte)(flags >> 8);

        // Atomic replace, keeping the timestamp so MSBuild's incremental copy sees an unchanged file.
        DateTime stamp = File.GetLastWriteTimeUtc(path);
        string tmp = path + ".genpatch.tmp";
        File.WriteAllBytes(tmp, b);
        File.SetLastWriteTimeUtc(tmp, stamp);
        File.Replace(tmp, path, null);
        File.SetLastWriteTimeUtc(path, stamp);
        return "marked " + Version + " weak at offset 0x" + flagsOffset.ToString("x");
    }

    private static string CString(byte[] b, long offset)
    {
        int end = (int)offset;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)offset, end - (int)offset);
    }
}
