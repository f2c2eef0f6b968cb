using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ChildShare.Core.Linkage;

/// <summary>
/// Software prefetch: asks the processor to bring memory into its caches without waiting for it (nothing where the processor has no
/// such instruction). The engine's tables are tens of MB, beyond the caches, and a record's reads from them are random: asked for in
/// a short loop that does not wait, ahead of the loop that uses them, they overlap, where a loop that loads them waits for each.
/// </summary>
/// <remarks>
/// A prefetch never faults and changes no value: were a collection to move the array between taking its address and the prefetch
/// (the tables' chunks are in the large object heap, which it does not compact), the prefetch would only be wasted. Nothing is ever
/// read or written through the pointer.
/// </remarks>
internal static class CachePrefetch
{
    private const int CacheLine = 64;

    /// <summary>Prefetches the cache lines of <paramref name="bytes"/> bytes from <paramref name="first"/> on.</summary>
    public static unsafe void Read<T>(ref readonly T first, int bytes)
        where T : unmanaged
    {
        if (!Sse.IsSupported || bytes <= 0)
        {
            return;
        }

        var start = (byte*)Unsafe.AsPointer(ref Unsafe.AsRef(in first));
        var end = start + bytes;
        // From the line the first byte is in to the line the last byte is in.
        for (var line = (byte*)((nuint)start & ~(nuint)(CacheLine - 1)); line < end; line += CacheLine)
        {
            Sse.Prefetch0(line);
        }
    }
}
