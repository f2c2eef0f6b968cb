using System.Text;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>
/// The parent page's HTML: one phone-sized page, server-rendered, no script, no external resource, one
/// inline style element carrying the response's CSP nonce. Every value (names, purposes, the disclosure
/// text, organization names) is HTML-encoded where it is written; every string comes from the language's
/// file through <see cref="ParentPageText.Html"/>. Colours keep a contrast of at least 4.5:1, focus is
/// always visible, every control is a real link or button with a text label, and nothing is wider than a
/// 320-pixel screen.
/// </summary>
public static class ParentPageHtml
{
    private const string Style =
        "*{box-sizing:border-box}" +
        "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:1rem;line-height:1.5;color:#1a1a1a;background:#fff}" +
        "main{max-width:40rem;margin:0 auto;padding:1rem}" +
        "h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.75rem 0 .5rem}" +
        "p,li,dd,dt{overflow-wrap:anywhere}" +
        "a{color:#0b57d0}a:focus-visible,button:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}" +
        "nav{display:flex;flex-wrap:wrap;gap:.75rem;justify-content:flex-end;font-size:.95rem}" +
        ".status{display:inline-block;padding:.25rem .75rem;border-radius:1rem;font-weight:600;background:#e8eaed;color:#1a1a1a}" +
        ".status-active{background:#d7f0dc;color:#0d4f1c}.status-revoked,.status-expired,.status-abandoned{background:#fbe3e1;color:#8c1d18}" +
        ".status-awaitingparent,.status-awaitingowner,.status-notyeteffective,.status-superseded{background:#fff1c2;color:#5c4300}" +
        "dl{margin:0}dt{font-weight:600;margin-top:.75rem}dd{margin:0}" +
        "ul,ol{padding-left:1.25rem;margin:.25rem 0}" +
        ".document{white-space:pre-wrap;border:1px solid #5f6368;border-radius:.25rem;padding:.75rem;background:#f8f9fa;max-height:24rem;overflow:auto}" +
        ".note{border-left:4px solid #5c4300;padding:.25rem .75rem;background:#fff8e1}" +
        ".button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1rem;border-radius:.25rem;border:2px solid transparent;cursor:pointer;text-decoration:none;margin:.25rem .5rem .25rem 0}" +
        ".danger{background:#b3261e;color:#fff}.primary{background:#0b57d0;color:#fff}.secondary{background:#fff;color:#0b57d0;border-color:#0b57d0}" +
        "form{margin:0}";

    /// <summary>The page: the consent, its status, the disclosure text, every disclosure made, and the revoke (and confirm) steps.</summary>
    public static string Page(ParentPageModel model, ParentPageText text, string nonce, ParentPageAddress page)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        var c = model.Consent;
        var html = new StringBuilder();
        var child = model.ChildFirstName ?? text["unknownChild"];
        Open(html, text, nonce, text["title"], page, "");
        html.Append("<h1>").Append(text.Html("heading", child)).Append("</h1>");
        html.Append("<p>").Append(text.Html("intro")).Append("</p>");

        html.Append("<section aria-labelledby=\"status\"><h2 id=\"status\">").Append(text.Html("statusHeading")).Append("</h2>");
        html.Append("<p><span class=\"status status-").Append(model.Status.ToString().ToLowerInvariant()).Append("\">")
            .Append(text.Html(StatusKey(model.Status))).Append("</span></p>");
        if (c.RevokedAt is { } revokedAt)
        {
            html.Append("<p>").Append(text.Html(model.RevokedByParent ? "revokedByYou" : "revokedByOrganization", text.DateTime(revokedAt))).Append("</p>");
            if (model.RevokedByParent)
            {
                html.Append("<p class=\"note\" role=\"status\">").Append(text.Html("revokedNotice")).Append("</p>");
            }
        }

        if (model.RenewalStatus is { } renewal)
        {
            html.Append("<p>").Append(text.Html("renewedAs", text[StatusKey(renewal)])).Append("</p>");
        }

        if (c.ParentConfirmation is { } confirmation)
        {
            html.Append("<p role=\"status\">").Append(text.Html("confirmedNotice", text.DateTime(confirmation.ConfirmedAt))).Append("</p>");
        }

        // Where the consent waits for it, the confirmation comes first; otherwise it is offered near the end.
        var confirmFirst = model.CanConfirm && model.Status == ParentPageStatus.AwaitingParent;
        if (confirmFirst)
        {
            Confirm(html, model, text, page, "confirmRequired");
        }

        html.Append("</section>");

        html.Append("<section aria-labelledby=\"what\"><h2 id=\"what\">").Append(text.Html("whatHeading")).Append("</h2><dl>");
        Term(html, text, "sharedBy", List(c.Sources.Select(s => Name(model, s))));
        Term(html, text, "sharedWith", List(c.Recipients.Select(r => Name(model, r))));
        Term(html, text, "purpose", ParentPageText.Encode(c.Purpose));
        // Semicolons: a category's own words may hold a comma.
        Term(html, text, "categories", ParentPageText.Encode(string.Join("; ", c.Categories.Select(k => text["category." + k]))));
        Term(html, text, "recordsDated", (c.DataFrom, c.DataTo) switch
        {
            (null, null) => text.Html("anyDate"),
            ({ } from, null) => text.Html("fromDate", text.Date(from)),
            (null, { } to) => text.Html("untilDate", text.Date(to)),
            ({ } from, { } to) => text.Html("fromUntil", text.Date(from), text.Date(to)),
        });
        Term(html, text, "inForce", text.Html("fromUntil", text.Date(c.EffectiveFrom), text.Date(c.ExpiresAt)));
        Term(html, text, "givenBy", ParentPageText.Encode(c.GivenBy.Relationship));
        html.Append("</dl></section>");

        html.Append("<section aria-labelledby=\"owners\"><h2 id=\"owners\">").Append(text.Html("authorizationsHeading")).Append("</h2><ul>");
        foreach (var authorization in c.AuthorizationsBySource)
        {
            html.Append("<li>").Append(ParentPageText.Encode(Name(model, authorization.SourceId))).Append(": ")
                .Append(text.Html("decision." + authorization.Decision)).Append("</li>");
        }

        html.Append("</ul></section>");

        html.Append("<section aria-labelledby=\"disclosure\"><h2 id=\"disclosure\">").Append(text.Html("disclosureHeading")).Append("</h2>");
        html.Append("<p>").Append(text.Html("disclosureDocument", c.Disclosure.DocumentId, c.Disclosure.Version)).Append("</p>");
        switch (model.DisclosureText)
        {
            case { Status: DisclosureTextStatus.Verified, Text: { } document }:
                html.Append("<p>").Append(text.Html("disclosureVerified")).Append("</p>");
                html.Append("<div class=\"document\" tabindex=\"0\" role=\"document\" aria-labelledby=\"disclosure\">").Append(ParentPageText.Encode(document)).Append("</div>");
                break;
            case { Status: DisclosureTextStatus.Mismatch }:
                html.Append("<p class=\"note\">").Append(text.Html("disclosureMismatch")).Append("</p>");
                break;
            default:
                html.Append("<p class=\"note\">").Append(text.Html("disclosureMissing")).Append("</p>");
                break;
        }

        html.Append("</section>");

        html.Append("<section aria-labelledby=\"record\"><h2 id=\"record\">").Append(text.Html("recordHeading")).Append("</h2>");
        if (model.Disclosures.Count == 0)
        {
            html.Append("<p>").Append(text.Html("recordNone")).Append("</p>");
        }
        else
        {
            html.Append("<ol reversed>");
            foreach (var disclosure in model.Disclosures)
            {
                html.Append("<li>").Append(text.Html("recordEntry", text.DateTime(disclosure.At), Name(model, disclosure.Recipient),
                    string.Join(", ", disclosure.Sources.Select(s => Name(model, s))))).Append("<br>")
                    .Append(ParentPageText.Encode(string.Join("; ", disclosure.Categories.Select(k => text["category." + k])))).Append("</li>");
            }

            html.Append("</ol>");
            if (model.MoreDisclosures)
            {
                html.Append("<p>").Append(text.Html("recordMore", model.Disclosures.Count)).Append("</p>");
            }
        }

        html.Append("</section>");

        if (model.CanConfirm && !confirmFirst)
        {
            Confirm(html, model, text, page, "confirmOptional");
        }

        if (model.CanRevoke)
        {
            html.Append("<section aria-labelledby=\"revoke\"><h2 id=\"revoke\">").Append(text.Html("revokeHeading")).Append("</h2><p>")
                .Append(text.Html("revokeExplain")).Append("</p>");
            html.Append("<p><a class=\"button danger\" id=\"revoke-start\" href=\"").Append(Attr(page.View("step=revoke&lang=" + text.Language))).Append("\">")
                .Append(text.Html("revokeButton")).Append("</a></p></section>");
        }

        return Close(html);
    }

    /// <summary>The confirmation step: what revoking does, the revoke button (a form post with its form token) and a way back.</summary>
    public static string ConfirmRevoke(ParentPageModel model, ParentPageText text, string nonce, ParentPageAddress page)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        var html = new StringBuilder();
        Open(html, text, nonce, text["revokeConfirmTitle"], page, "step=revoke&");
        html.Append("<h1>").Append(text.Html("revokeConfirmTitle")).Append("</h1>");
        html.Append("<p>").Append(text.Html("heading", model.ChildFirstName ?? text["unknownChild"])).Append("</p>");
        html.Append("<p>").Append(text.Html("revokeConfirmText")).Append("</p>");
        Form(html, page.Post("revoke"), model.RevokeFormToken, text, "danger", "revokeConfirmButton");
        html.Append("<p><a class=\"button secondary\" href=\"").Append(Attr(page.View("lang=" + text.Language))).Append("\">").Append(text.Html("cancel")).Append("</a></p>");
        return Close(html);
    }

    /// <summary>A plain page with a title and one sentence: every error, whatever its cause, says only this.</summary>
    public static string Message(ParentPageText text, string nonce, string titleKey, string bodyKey, string? back = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var html = new StringBuilder();
        Open(html, text, nonce, text[titleKey], null, "");
        html.Append("<h1>").Append(text.Html(titleKey)).Append("</h1><p>").Append(text.Html(bodyKey)).Append("</p>");
        if (back is not null)
        {
            html.Append("<p><a href=\"").Append(Attr(back)).Append("\">").Append(text.Html("backToPage")).Append("</a></p>");
        }

        return Close(html);
    }

    private static void Open(StringBuilder html, ParentPageText text, string nonce, string title, ParentPageAddress? page, string query)
    {
        html.Append("<!DOCTYPE html><html lang=\"").Append(Attr(text.Language)).Append("\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\">")
            .Append("<meta name=\"robots\" content=\"noindex, nofollow\"><title>").Append(ParentPageText.Encode(title)).Append("</title>")
            .Append("<style nonce=\"").Append(Attr(nonce)).Append("\">").Append(Style).Append("</style></head><body><main>");
        if (page is not null && ParentPageText.All.Count > 1)
        {
            html.Append("<nav aria-label=\"").Append(Attr(text["languageLabel"])).Append("\">");
            foreach (var language in ParentPageText.All.Values.OrderBy(l => l.Language, StringComparer.Ordinal))
            {
                html.Append("<a lang=\"").Append(Attr(language.Language)).Append("\" hreflang=\"").Append(Attr(language.Language)).Append("\" href=\"")
                    .Append(Attr(page.View(query + "lang=" + language.Language))).Append('"')
                    .Append(language.Language == text.Language ? " aria-current=\"true\"" : "").Append('>').Append(ParentPageText.Encode(language.LanguageName)).Append("</a>");
            }

            html.Append("</nav>");
        }
    }

    private static void Confirm(StringBuilder html, ParentPageModel model, ParentPageText text, ParentPageAddress page, string explanationKey)
    {
        html.Append("<section aria-labelledby=\"confirm\"><h2 id=\"confirm\">").Append(text.Html("confirmHeading")).Append("</h2><p>")
            .Append(text.Html(explanationKey)).Append("</p>");
        Form(html, page.Post("confirm"), model.ConfirmFormToken, text, "primary", "confirmButton");
        html.Append("</section>");
    }

    private static string Close(StringBuilder html) => html.Append("</main></body></html>").ToString();

    private static void Form(StringBuilder html, string action, string formToken, ParentPageText text, string kind, string buttonKey) =>
        html.Append("<form method=\"post\" action=\"").Append(Attr(action)).Append("\">")
            .Append("<input type=\"hidden\" name=\"form\" value=\"").Append(Attr(formToken)).Append("\">")
            .Append("<input type=\"hidden\" name=\"lang\" value=\"").Append(Attr(text.Language)).Append("\">")
            .Append("<button type=\"submit\" class=\"button ").Append(kind).Append("\">").Append(text.Html(buttonKey)).Append("</button></form>");

    private static void Term(StringBuilder html, ParentPageText text, string key, string encodedValue) =>
        html.Append("<dt>").Append(text.Html(key)).Append("</dt><dd>").Append(encodedValue).Append("</dd>");

    private static string List(IEnumerable<string> values) => ParentPageText.Encode(string.Join(", ", values));

    private static string Name(ParentPageModel model, string organization) => model.OrganizationNames.TryGetValue(organization, out var name) ? name : organization;

    private static string Attr(string value) => ParentPageText.Encode(value);

    private static string StatusKey(ParentPageStatus status) => status switch
    {
        ParentPageStatus.Active => "status.active",
        ParentPageStatus.AwaitingParent => "status.awaitingParent",
        ParentPageStatus.AwaitingOwner => "status.awaitingOwner",
        ParentPageStatus.NotYetEffective => "status.notYetEffective",
        ParentPageStatus.Revoked => "status.revoked",
        ParentPageStatus.Expired => "status.expired",
        ParentPageStatus.Superseded => "status.superseded",
        _ => "status.abandoned",
    };
}
