using System.Security.Cryptography;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Identifiable.Parent;
using Microsoft.Extensions.Options;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>Issue 14: the parent link's signed token and its purpose-separated key, without storage.</summary>
public sealed class ParentLinkTokenTests
{
    private static readonly DateTimeOffset Now = new(2026, 10, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly string LinkId = new string('a', 16) + new string('0', 16);

    private static async Task<byte[]> KeyAsync() =>
        await new ParentLinkKeys(new SettingsKeyProvider(Options.Create(new PseudonymizationOptions { LocalKey = ChildShare.Cli.CliHost.DevelopmentKey }))).GetKeyAsync();

    [Fact]
    public async Task Verify_TokenItMade_NamesTheLinkAndExpiry()
    {
        var key = await KeyAsync();
        var token = ParentLinkToken.Create(key, ParentTokenPurpose.Page, LinkId, Now.AddDays(30));

        var (verified, problem) = ParentLinkToken.Verify(key, token, ParentTokenPurpose.Page, Now);

        Assert.Equal(ParentTokenProblem.None, problem);
        Assert.Equal(new ParentToken(ParentTokenPurpose.Page, LinkId, Now.AddDays(30)), verified);
        Assert.Equal(ParentLinkToken.Length, token.Length);
        Assert.All(token, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
    }

    [Fact]
    public async Task Verify_AnyCharacterChanged_Tampered()
    {
        var key = await KeyAsync();
        var token = ParentLinkToken.Create(key, ParentTokenPurpose.Page, LinkId, Now.AddDays(30));

        for (var i = 0; i < token.Length; i++)
        {
            var altered = token[..i] + (token[i] == 'Q' ? 'R' : 'Q') + token[(i + 1)..];
            Assert.NotEqual(ParentTokenProblem.None, ParentLinkToken.Verify(key, altered, ParentTokenPurpose.Page, Now).Problem);
        }
    }

    [Fact]
    public async Task Verify_OtherPurposeExpiredOrOtherKey_Refused()
    {
        var key = await KeyAsync();
        var pseudonymKey = Convert.FromBase64String(ChildShare.Cli.CliHost.DevelopmentKey);

        Assert.Equal(ParentTokenProblem.WrongPurpose,
            ParentLinkToken.Verify(key, ParentLinkToken.Create(key, ParentTokenPurpose.RevokeForm, LinkId, Now.AddHours(1)), ParentTokenPurpose.Page, Now).Problem);
        Assert.Equal(ParentTokenProblem.Expired,
            ParentLinkToken.Verify(key, ParentLinkToken.Create(key, ParentTokenPurpose.Page, LinkId, Now), ParentTokenPurpose.Page, Now).Problem);
        Assert.Equal(ParentTokenProblem.Tampered,
            ParentLinkToken.Verify(key, ParentLinkToken.Create(pseudonymKey, ParentTokenPurpose.Page, LinkId, Now.AddDays(1)), ParentTokenPurpose.Page, Now).Problem);
        Assert.Equal(ParentTokenProblem.Tampered,
            ParentLinkToken.Verify(key, ParentLinkToken.Create(RandomNumberGenerator.GetBytes(32), ParentTokenPurpose.Page, LinkId, Now.AddDays(1)), ParentTokenPurpose.Page, Now).Problem);
    }

    [Fact]
    public async Task LinkKey_IsNotThePseudonymizationKey()
    {
        var key = await KeyAsync();

        Assert.Equal(32, key.Length);
        Assert.False(key.AsSpan().SequenceEqual(Convert.FromBase64String(ChildShare.Cli.CliHost.DevelopmentKey)));
    }
}
