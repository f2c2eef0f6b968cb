namespace ChildShare.Core.Ingestion;

/// <summary>
/// Why one row was not accepted. The reason names the field and the rule, never the value, so it
/// can be logged, stored and shown to the provider without disclosing a child.
/// </summary>
public sealed record RowRejection(int LineNumber, string Field, string Reason);
