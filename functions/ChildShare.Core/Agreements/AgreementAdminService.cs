using ChildShare.Core.Organizations;

namespace ChildShare.Core.Agreements;

/// <summary>
/// Who may manage data sharing agreements, decided once for the HTTP admin API and the command line: a caller with the
/// <c>Admin</c> role (the community's operator at the command line is one, <see cref="Caller.CommunityOperator"/>). A caller
/// is authorized first, before anything else of its request is read, and only the session that authorization gives can list,
/// read or change agreements on its behalf; every change and read is audited by <see cref="AgreementStore"/>.
/// </summary>
public sealed class AgreementAdminService(AgreementStore agreements)
{
    /// <summary>What a caller who may not manage agreements is told.</summary>
    public const string NotPermitted = "Managing agreements needs the Admin role.";

    /// <summary>The decision: whether <paramref name="caller"/> may manage agreements.</summary>
    public static bool MayManage(Caller? caller) => caller is { IsAdmin: true };

    /// <summary>A session acting for <paramref name="caller"/>, or null when it may not manage agreements.</summary>
    public AgreementAdminSession? Authorize(Caller? caller) => MayManage(caller) ? new AgreementAdminSession(agreements, caller!) : null;
}

/// <summary>The agreement operations of one caller who may manage agreements (see <see cref="AgreementAdminService.Authorize"/>).</summary>
public sealed class AgreementAdminSession
{
    private readonly AgreementStore _agreements;

    internal AgreementAdminSession(AgreementStore agreements, Caller caller)
    {
        _agreements = agreements;
        Caller = caller;
    }

    public Caller Caller { get; }

    /// <summary>
    /// Who the audit says made a change: the operator's name at the command line (<c>operator:{user}</c>), else the
    /// organization, the way the caller authenticated and its credential (<c>{org}/{method}/{credential id}</c>).
    /// </summary>
    public string Actor => Caller.Method == CallerAuthMethod.Operator ? Caller.CredentialId : $"{Caller.OrganizationId}/{Caller.Method}/{Caller.CredentialId}";

    public Task<IReadOnlyList<DataSharingAgreement>> ListAsync(CancellationToken cancellationToken = default) => _agreements.ListForAsync(Caller, cancellationToken);

    public Task<DataSharingAgreement?> GetAsync(string id, CancellationToken cancellationToken = default) => _agreements.GetForAsync(Caller, id, cancellationToken);

    public Task<DataSharingAgreement> CreateAsync(DataSharingAgreement draft, CancellationToken cancellationToken = default) =>
        _agreements.CreateAsync(draft, Actor, cancellationToken);

    /// <summary>The amended agreement, or null when there is none with this id.</summary>
    public Task<DataSharingAgreement?> AmendAsync(string id, DataSharingAgreement terms, CancellationToken cancellationToken = default) =>
        _agreements.AmendAsync(id, terms, Actor, cancellationToken);

    /// <summary>The terminated agreement, or null when there is none with this id.</summary>
    public Task<DataSharingAgreement?> TerminateAsync(string id, string reason, DateOnly? on = null, CancellationToken cancellationToken = default) =>
        _agreements.TerminateAsync(id, reason, Actor, on, cancellationToken);
}
