using ChildShare.Core.Pseudonymization;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace ChildShare.Tests.Ingestion;

public sealed class PseudonymizationTests
{
    private static readonly string KeyA = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
    private static readonly string KeyB = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray());

    [Fact]
    public void Token_SameInputSameKey_IsStableAndHidesTheInput()
    {
        var pseudonymizer = new Pseudonymizer(PseudonymKey.FromBase64("v1", KeyA));

        var token = pseudonymizer.Token("local-v1", "district", "A-1");

        Assert.Equal(token, pseudonymizer.Token("local-v1", "district", "A-1"));
        Assert.Equal(Pseudonymizer.TokenLength, token.Length);
        Assert.DoesNotContain("A-1", token, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_DifferentKeyOrPurposeOrPartBoundary_Differs()
    {
        var a = new Pseudonymizer(PseudonymKey.FromBase64("v1", KeyA));
        var b = new Pseudonymizer(PseudonymKey.FromBase64("v2", KeyB));

        var token = a.Token("local-v1", "ab", "c");

        Assert.NotEqual(token, b.Token("local-v1", "ab", "c"));
        Assert.NotEqual(token, a.Token("other-v1", "ab", "c"));
        Assert.NotEqual(token, a.Token("local-v1", "a", "bc"));
    }

    [Fact]
    public void Token_ShortLongOrNonAsciiInput_IsTheTruncatedHmacOfItsUtf8()
    {
        var material = Convert.FromBase64String(KeyA);
        var pseudonymizer = new Pseudonymizer(PseudonymKey.FromBase64("v1", KeyA));

        // Within the stack buffer, past it (pooled), and with characters of two to four UTF-8 bytes.
        foreach (var part in new[] { "A-1", new string('x', 255), new string('y', 300), "Zoë Ærøskøbing 😀 Ｊｏｈｎ" + new string('é', 250) })
        {
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
                material, System.Text.Encoding.UTF8.GetBytes("local-v1\u001fdistrict\u001f" + part)).AsSpan(0, 16));

            Assert.Equal(expected, pseudonymizer.Token("local-v1", "district", part));
        }
    }

    [Fact]
    public void Token_RepeatedAndPastTheCacheLimit_AlwaysTheTruncatedHmac()
    {
        var material = Convert.FromBase64String(KeyA);
        var pseudonymizer = new Pseudonymizer(PseudonymKey.FromBase64("v1", KeyA));
        static string Expected(byte[] key, string input) =>
            Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes(input)).AsSpan(0, 16));

        var first = pseudonymizer.Token("local-v1", "district", "A-1");
        var again = pseudonymizer.Token("local-v1", "district", "A-1");
        for (var i = 0; i <= Pseudonymizer.CacheLimit; i++)
        {
            // Fills the cache past its limit, so it starts again empty.
            pseudonymizer.TokenValue("fill", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var afterClear = pseudonymizer.Token("local-v1", "district", "A-1");

        var expected = Expected(material, "local-v1\u001fdistrict\u001fA-1");
        Assert.Equal([expected, expected, expected], [first, again, afterClear]);
        Assert.Equal(UInt128.Parse(expected, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture),
            pseudonymizer.TokenValue("local-v1", "district", "A-1"));
    }

    [Fact]
    public void PseudonymKey_TooShort_IsRefused() =>
        Assert.Throws<ArgumentException>(() => PseudonymKey.FromBase64("v1", Convert.ToBase64String(new byte[16])));

    [Fact]
    public async Task KeyVaultKeyProvider_CachesTheSecretThenPicksUpANewVersion()
    {
        var secrets = new Mock<ISecretSource>();
        secrets.SetupSequence(s => s.GetSecretAsync("pseudonymization-key", It.IsAny<CancellationToken>()))
            .ReturnsAsync((KeyA, "version-1"))
            .ReturnsAsync((KeyB, "version-2"));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero));
        using var provider = new KeyVaultKeyProvider(secrets.Object, Options.Create(new PseudonymizationOptions()), time);

        var first = await provider.GetCurrentKeyAsync();
        var cached = await provider.GetCurrentKeyAsync();
        time.Advance(KeyVaultKeyProvider.CacheDuration + TimeSpan.FromSeconds(1));
        var rotated = await provider.GetCurrentKeyAsync();

        Assert.Equal("version-1", first.Version);
        Assert.Same(first, cached);
        Assert.Equal("version-2", rotated.Version);
        secrets.Verify(s => s.GetSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task SettingsKeyProvider_EmptyKey_SaysWhichSetting()
    {
        var provider = new SettingsKeyProvider(Options.Create(new PseudonymizationOptions { LocalKey = "" }));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => provider.GetCurrentKeyAsync());

        Assert.Contains("Pseudonymization:LocalKey", error.Message, StringComparison.Ordinal);
    }
}
