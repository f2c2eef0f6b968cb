using System.Reflection;
using ChildShare.Core.Activity;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Activity;

/// <summary>
/// A bucket-year's payload without storage (adversary 30, against the per-thread buffers <see cref="ActivityStore.Encode"/> reuses):
/// what is encoded decodes to what was given whatever ran on the thread before and however many threads encode at once, and a
/// thread keeps no buffer of a payload no entity could hold.
/// </summary>
public sealed class ActivityPayloadTests
{
    private static ProviderChildYear Child(string providerChild, int programs, string? school = "School") =>
        new(providerChild, "key-" + providerChild, providerChild.Length * 1_000L, ["2016-03-15", "Female", null, "", "123", "3", school],
            Enumerable.Range(0, programs).Select(p => new YearActivity("Program " + p, p % 2 == 0 ? "Academic" : "", [(uint)p, 0, 0, 0xFFFF_FFFF, 0, 0, 0, 0, 1, 0, 0, 1u << 31])).ToList());

    private static List<ProviderChildYear> Set(int seed, int children) =>
        Enumerable.Range(0, children).Select(i => Child($"p{seed}|c{i:D5}", (i + seed) % 4, i % 3 == 0 ? null : "School " + seed)).ToList();

    private static void AssertSame(IReadOnlyList<ProviderChildYear> expected, SortedDictionary<string, ProviderChildYear> decoded)
    {
        Assert.Equal(expected.Select(c => c.ProviderChild).Order(StringComparer.Ordinal), decoded.Keys);
        foreach (var child in expected)
        {
            var back = decoded[child.ProviderChild];
            Assert.Equal((child.ChildKey, child.UpdatedTicks), (back.ChildKey, back.UpdatedTicks));
            Assert.Equal(child.Demographics.Select(d => string.IsNullOrEmpty(d) ? null : d), back.Demographics);
            Assert.Equal(child.Activities.Select(a => (a.Program, a.ServiceType, string.Join(',', a.Months))),
                back.Activities.Select(a => (a.Program, a.ServiceType, string.Join(',', a.Months))));
        }
    }

    [Fact]
    public void Encode_OnManyThreadsAtOnce_EachPayloadIsTheBytesOfItsOwnChildren()
    {
        var sets = Enumerable.Range(0, 64).Select(s => Set(s, 50 + (s * 37 % 400))).ToList();
        var alone = sets.Select(s => Convert.ToHexString(ActivityStore.Encode(s))).ToList();
        var together = new string[sets.Count];

        Parallel.For(0, sets.Count * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var payload = Convert.ToHexString(ActivityStore.Encode(sets[i % sets.Count]));
            Assert.Equal(alone[i % sets.Count], payload);
            together[i % sets.Count] = payload;
        });

        Assert.Equal(alone, together);
        AssertSame(sets[5], ActivityStore.Decode(Convert.FromHexString(together[5])));
    }

    // A thread of its own (LongRunning), so that nothing else encoded on it before.
    private static Task OnAThreadOfItsOwn(Action action) => Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [Fact]
    public async Task Encode_ASmallSetAfterALargerOneOnTheSameThread_HoldsNothingOfTheLargerOne()
    {
        var small = Set(1, 3);
        var expected = ActivityStore.Encode(small);

        await OnAThreadOfItsOwn(() =>
        {
            _ = ActivityStore.Encode(Set(2, 5_000));
            var payload = ActivityStore.Encode(small);
            Assert.Equal(expected, payload);
            AssertSame(small, ActivityStore.Decode(payload));
        });
    }

    [Fact]
    public void Encode_AfterAnEncodeThatThrew_IsTheBytesOfItsOwnChildren()
    {
        // A child without a key throws in the middle of the body: what it wrote must not reach the next payload of the thread.
        var broken = Set(3, 200).Append(new ProviderChildYear(null!, "k", 0, [], [])).ToList();
        var small = Set(4, 2);
        var expected = ActivityStore.Encode(small);

        Assert.ThrowsAny<ArgumentException>(() => ActivityStore.Encode(broken));

        Assert.Equal(expected, ActivityStore.Encode(small));
    }

    [Fact]
    public void DecodeOfEncode_StringsOfEveryLengthPrefixAndText_RoundTrip()
    {
        // Length prefixes of one, two and three bytes, characters of one to four UTF-8 bytes, NULs, an empty set and a set of one.
        var texts = new[] { "", "\0", "é", "日本", "😀x", new string('a', 127), new string('b', 128), new string('ü', 8_200), "p|\u0000|\uFFFD" };
        var children = texts.Select((t, i) => new ProviderChildYear($"p|{i:D2}{t}", "k" + t, -i, [t, t, null, t, t, t, t],
            [new YearActivity(t, t, Enumerable.Range(0, 12).Select(m => (uint)(m * i)).ToArray())])).ToList();

        AssertSame(children, ActivityStore.Decode(ActivityStore.Encode(children)));
        AssertSame([children[3]], ActivityStore.Decode(ActivityStore.Encode([children[3]])));
        Assert.Empty(ActivityStore.Decode(ActivityStore.Encode([])));
    }

    [Fact]
    public async Task Encode_ABucketYearPastTheLimit_KeepsNoBufferOfItsSizeOnTheThread()
    {
        // Adversary 30: the check for a full bucket-year encodes it first, so a payload of several megabytes (a rebuild with too few
        // buckets) grows the thread's reused buffer; reused buffers never shrink, so each thread-pool thread that encoded one would keep
        // a buffer of that size for the life of the thread, on the large object heap, after ApplyAsync threw ActivityBucketFullException.
        var field = typeof(ActivityStore).GetField("_scratch", BindingFlags.NonPublic | BindingFlags.Static)!;
        var large = Set(5, 40_000);
        long kept = -1;
        var payloadBytes = 0;

        await OnAThreadOfItsOwn(() =>
        {
            payloadBytes = ActivityStore.Encode(large).Length;
            kept = field.GetValue(null) is ValueTuple<MemoryStream, MemoryStream> scratch ? scratch.Item1.Capacity + scratch.Item2.Capacity : 0;
        });

        Assert.True(payloadBytes > 2 * ActivityTable.MaxPayloadBytes, $"the set encodes to {payloadBytes:N0} bytes");
        Assert.InRange(kept, 0, 2L * ActivityTable.MaxPayloadBytes);
    }
}
