//! The console served at `/` from the files embedded in the binary: its security headers, no
//! inline script, every file its page references served with the right type and cache policy,
//! and every other path still the API's own 404/405.

use reqwest::Method;

use crate::both_stores;
use crate::helpers::{Reply, TestApp};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[track_caller]
fn assert_console_headers(reply: &Reply) {
    assert_eq!(reply.header("content-security-policy").as_deref(), Some(CSP));
    assert_eq!(reply.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(reply.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(reply.header("x-content-type-options").as_deref(), Some("nosniff"));
}

/// The opening tags named `name` in `html`, each with the text up to its closing tag (empty for
/// void elements such as `link`).
fn elements<'a>(html: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{name}");
    let close = format!("</{name}");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&open).map(|i| i + at) {
        let after = i + open.len();
        // `<scripts>` or `<linkage>` are other elements.
        if !lower[after..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/') {
            at = after;
            continue;
        }
        let end = lower[after..].find('>').map(|e| e + after).expect("an opening tag ends");
        let inner_end = lower[end..].find(&close).map(|e| e + end).unwrap_or(end + 1);
        out.push((&html[after..end], html.get(end + 1..inner_end).unwrap_or("")));
        at = end + 1;
    }
    out
}

/// The value of attribute `name` in a tag's attribute text (quoted with `"` or `'`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find(name).map(|i| i + at) {
        let before_ok = i == 0 || lower.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = lower[i + name.len()..].trim_start();
        if before_ok && rest.starts_with('=') {
            let value = tag[tag.len() - rest.len() + 1..].trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                return value[1..].split(quote).next().map(str::to_string);
            }
            return value.split(|c: char| c.is_ascii_whitespace()).next().map(str::to_string);
        }
        at = i + name.len();
    }
    None
}

async fn index(app: &TestApp) -> Reply {
    app.send(app.client.get(app.url("/"))).await.expect(200)
}

async fn the_console_is_served_at_the_root_with_its_policy_and_no_inline_script(app: TestApp) {
    let root = index(&app).await;
    assert_eq!(root.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(root.header("cache-control").as_deref(), Some("no-cache"));
    assert_console_headers(&root);
    let html = &root.text;
    assert!(html.to_ascii_lowercase().contains("<html"), "{html}");

    let scripts = elements(html, "script");
    assert!(!scripts.is_empty(), "the page loads its code: {html}");
    for (tag, body) in &scripts {
        assert!(attr(tag, "src").is_some(), "an inline <script{tag}>");
        assert!(body.trim().is_empty(), "<script{tag}> holds code: {body}");
    }
    // Inline handlers are inline script too; `script-src 'self'` would refuse them anyway.
    for element in ["body", "div", "a", "button", "img", "link", "html", "form"] {
        for (tag, _) in elements(html, element) {
            let lower = tag.to_ascii_lowercase();
            assert!(
                !lower.split_ascii_whitespace().any(|a| a.starts_with("on")),
                "an inline handler in <{element}{tag}>"
            );
        }
    }

    let named = app.send(app.client.get(app.url("/index.html"))).await.expect(200);
    assert_eq!(named.text, root.text);
    assert_console_headers(&named);
}
both_stores!(the_console_is_served_at_the_root_with_its_policy_and_no_inline_script);

async fn every_file_the_page_references_is_served_from_this_origin_with_its_type(app: TestApp) {
    let html = index(&app).await.text;
    let mut references: Vec<String> = Vec::new();
    for (element, attribute) in [("script", "src"), ("link", "href"), ("img", "src")] {
        references.extend(elements(&html, element).iter().filter_map(|(tag, _)| attr(tag, attribute)));
    }
    assert!(!references.is_empty(), "{html}");
    for reference in references {
        assert!(reference.starts_with('/') && !reference.starts_with("//"), "{reference} is not a path on this origin");
        let reply = app.send(app.client.get(app.url(&reference))).await;
        assert_eq!(reply.status.as_u16(), 200, "{reference}");
        assert_console_headers(&reply);
        let content_type = reply.header("content-type").unwrap_or_default();
        let expected = match reference.rsplit_once('.').map(|(_, e)| e) {
            Some("js" | "mjs") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("webmanifest") => "application/manifest+json",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("ico") => "image/x-icon",
            other => panic!("{reference}: a type this test does not know ({other:?})"),
        };
        assert_eq!(content_type, expected, "{reference}");
        let cache = reply.header("cache-control").unwrap_or_default();
        if reference.starts_with("/assets/") {
            assert_eq!(cache, "public, max-age=31536000, immutable", "{reference}");
        } else {
            assert_eq!(cache, "no-cache", "{reference}");
        }
    }
}
both_stores!(every_file_the_page_references_is_served_from_this_origin_with_its_type);

async fn the_service_worker_is_served_from_the_root_and_always_revalidated(app: TestApp) {
    let sw = app.send(app.client.get(app.url("/sw.js"))).await.expect(200);
    assert_eq!(sw.header("content-type").as_deref(), Some("text/javascript; charset=utf-8"));
    assert_eq!(sw.header("cache-control").as_deref(), Some("no-cache"));
    assert_console_headers(&sw);
}
both_stores!(the_service_worker_is_served_from_the_root_and_always_revalidated);

async fn the_page_revalidates_by_etag_and_answers_head(app: TestApp) {
    let first = index(&app).await;
    let etag = first.header("etag").expect("an ETag");
    let again = app.send(app.client.get(app.url("/")).header("if-none-match", &etag)).await.expect(304);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
    assert_console_headers(&again);
    let other = app.send(app.client.get(app.url("/")).header("if-none-match", "\"other\"")).await.expect(200);
    assert_eq!(other.text, first.text);

    let head = app.send(app.client.head(app.url("/"))).await.expect(200);
    assert!(head.text.is_empty());
    assert_eq!(head.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    assert_console_headers(&head);
}
both_stores!(the_page_revalidates_by_etag_and_answers_head);

async fn other_paths_keep_the_apis_404_and_console_files_refuse_writes(app: TestApp) {
    for path in ["/assets/no-such-file.js", "/no-such-page", "/api/v1/no-such-thing", "/health"] {
        let reply = app.send(app.client.get(app.url(path))).await.expect(404);
        assert_eq!(reply.header("content-type").as_deref(), Some("application/problem+json"), "{path}");
        assert_eq!(reply.json()["instance"], path);
    }
    let post = app.send(app.request(Method::POST, "/", None).body("x")).await.expect(405);
    assert_eq!(post.header("content-type").as_deref(), Some("application/problem+json"));
    assert_eq!(post.header("allow").as_deref(), Some("GET, HEAD"));
    // The API's own routes are untouched by the console's.
    app.send(app.client.get(app.url("/health/live"))).await.expect(200);
    app.send(app.client.get(app.url("/api-docs/openapi.json"))).await.expect(200);
}
both_stores!(other_paths_keep_the_apis_404_and_console_files_refuse_writes);
