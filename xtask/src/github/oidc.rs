//! Trusted publishing: an Actions OIDC token exchanged for a short-lived
//! index token, with the endpoints derived from the upload URL. The
//! Actions token-request variables are taken out of the environment when
//! the xtask starts, so no child process (builds, twine, mkdocs, git) ever
//! sees them; only this module holds them.

use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use xshell::Shell;

use crate::http;
use crate::input::clip;

/// The variables GitHub Actions sets in a job with `id-token: write`.
pub const TOKEN_REQUEST_VARS: [&str; 2] = [
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

/// The ID-token request `(url, bearer token)`, when Actions granted one.
static TOKEN_REQUEST: OnceLock<Option<(String, String)>> = OnceLock::new();

/// Takes the Actions token-request variables out of the process
/// environment and keeps them here. Called first thing in `main`, while
/// the process has one thread.
pub fn capture_token_request() {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let request = match (read(TOKEN_REQUEST_VARS[0]), read(TOKEN_REQUEST_VARS[1])) {
        (Some(url), Some(token)) => {
            crate::secrets::register(&token);
            Some((url, token))
        }
        _ => None,
    };
    for name in TOKEN_REQUEST_VARS {
        std::env::remove_var(name);
    }
    let _ = TOKEN_REQUEST.set(request);
}

fn token_request() -> Option<&'static (String, String)> {
    TOKEN_REQUEST.get().and_then(Option::as_ref)
}

/// Whether this job may request an Actions ID token (`id-token: write`).
pub fn can_request_id_token() -> bool {
    token_request().is_some()
}

/// The endpoints of trusted publishing, derived from the upload URL as
/// the official publishing action does: same origin, fixed paths.
pub fn oidc_endpoints(upload_url: &str) -> Option<(String, String)> {
    let (scheme, rest) = upload_url.split_once("://")?;
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|a| !a.is_empty())?;
    Some((
        format!("{scheme}://{authority}/_/oidc/audience"),
        format!("{scheme}://{authority}/_/oidc/mint-token"),
    ))
}

/// The descriptions in an index's token-exchange error body.
pub fn exchange_error(status: u16, body: &str) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let descriptions: Vec<String> = parsed["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter_map(|e| e["description"].as_str().map(clip))
                .collect()
        })
        .unwrap_or_default();
    let detail = if !descriptions.is_empty() {
        descriptions.join("; ")
    } else if let Some(m) = parsed["message"].as_str() {
        clip(m)
    } else {
        clip(body.trim())
    };
    match status {
        403 => format!("trusted publishing is not enabled or not allowed here (403): {detail}"),
        422 => format!("the index rejected the identity token (422): {detail}"),
        s => format!("the token exchange failed ({s}): {detail}"),
    }
}

/// The claims of an ID token a maintainer compares with the trusted
/// publisher's settings, one `name: value` per line; the token itself is
/// never shown. `None` when the token is not a readable JWT.
pub fn token_claims(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&base64url(payload)?).ok()?;
    claims.as_object()?;
    let lines: Vec<String> = [
        "repository",
        "repository_owner",
        "workflow_ref",
        "job_workflow_ref",
        "ref",
        "environment",
        "event_name",
        "sub",
    ]
    .iter()
    .map(|name| match &claims[*name] {
        Value::String(v) => format!("  {name}: {}", clip(v)),
        Value::Null if *name == "environment" => {
            format!("  {name}: (none: the job names no environment)")
        }
        Value::Null => format!("  {name}: (absent)"),
        other => format!("  {name}: {}", clip(&other.to_string())),
    })
    .collect();
    Some(lines.join("\n"))
}

/// Decodes unpadded base64url (a JWT segment).
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Trusted publishing: the minted index token, or `None` outside GitHub
/// Actions when no ID token can be requested (twine then uses its own
/// configuration). Inside Actions, a job without `id-token: write` is an
/// error that says so before twine runs. Tokens are masked and registered
/// for redaction before anything else can print them.
pub fn mint_index_token(sh: &Shell, upload_url: &str) -> Result<Option<String>> {
    let Some((request_url, request_token)) = token_request() else {
        if sh.var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            bail!(
                "no credentials for {}: this GitHub Actions job has no TWINE_PASSWORD and no \
ID-token request variables ({}), so trusted publishing cannot start: give the publishing job \
`permissions: id-token: write` (and the environment the index's trusted publisher names), or \
set TWINE_USERNAME and TWINE_PASSWORD",
                clip(upload_url),
                TOKEN_REQUEST_VARS.join(", ")
            );
        }
        return Ok(None);
    };
    for (what, url) in [
        ("the upload URL", upload_url),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", request_url.as_str()),
    ] {
        if !http::credential_safe(url) {
            bail!(
                "trusted publishing sends credentials over https only: {what} `{}` is not https \
(plain http is allowed for 127.0.0.1, localhost and [::1] alone)",
                clip(url)
            );
        }
    }
    let (audience_url, mint_url) = oidc_endpoints(upload_url)
        .ok_or_else(|| anyhow!("cannot derive the token-exchange endpoints from {upload_url}"))?;
    let agent = http::agent()?;

    let mut response = agent
        .get(&audience_url)
        .call()
        .map_err(|e| http::failed(e, &format!("asking {audience_url} for the OIDC audience")))?;
    let (status, body) = http::read(&mut response, "the audience request")?;
    match status {
        200 => {}
        404 => bail!(
            "the index at {} offers no trusted publishing ({audience_url} answered 404): publish \
with an API token in TWINE_PASSWORD instead, or check TWINE_REPOSITORY_URL",
            clip(upload_url)
        ),
        s => bail!("{}", exchange_error(s, &body)),
    }
    let audience = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["audience"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("{audience_url} returned no audience"))?;

    let id_url = http::with_query(request_url, "audience", &audience);
    let mut response = agent
        .get(&id_url)
        .header("Authorization", &format!("bearer {request_token}"))
        .call()
        .map_err(|e| http::failed(e, "requesting the GitHub Actions OIDC token"))?;
    let (status, body) = http::read(&mut response, "the Actions OIDC token request")?;
    if status != 200 {
        bail!(
            "GitHub Actions refused the ID-token request ({status}: {}): the job needs \
`permissions: id-token: write`",
            clip(body.trim())
        );
    }
    let id_token = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["value"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("the Actions OIDC answer has no token"))?;
    // Mask it too: it is a credential until it expires.
    crate::secrets::mask_in_actions(sh, &id_token);

    let mut response = agent
        .post(&mint_url)
        .header("Content-Type", "application/json")
        .send(json!({ "token": id_token }).to_string())
        .map_err(|e| http::failed(e, &format!("exchanging the OIDC token at {mint_url}")))?;
    let (status, body) = http::read(&mut response, "the token exchange")?;
    if status != 200 {
        let mut message = exchange_error(status, &body);
        if matches!(status, 403 | 422) {
            let claims = token_claims(&id_token)
                .unwrap_or_else(|| "  (the ID token's claims could not be read)".to_string());
            message.push_str(&format!(
                "\nthe ID token this job presented (compare with the trusted publisher's \
repository, workflow file and environment):\n{claims}"
            ));
        }
        bail!("{message}");
    }
    let token = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["token"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("the token exchange answered without a token"))
        .context("reading the minted token")?;
    crate::secrets::mask_in_actions(sh, &token);
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_endpoints_follow_the_upload_origin() {
        assert_eq!(
            oidc_endpoints("http://127.0.0.1:9000/legacy/"),
            Some((
                "http://127.0.0.1:9000/_/oidc/audience".to_string(),
                "http://127.0.0.1:9000/_/oidc/mint-token".to_string()
            ))
        );
        assert_eq!(
            oidc_endpoints("https://upload.example.test?x=1").map(|e| e.0),
            Some("https://upload.example.test/_/oidc/audience".to_string())
        );
        assert_eq!(oidc_endpoints("no-scheme"), None);
    }

    #[test]
    fn exchange_errors_show_their_descriptions() {
        let body = r#"{"message":"Token request failed","errors":[{"code":"invalid-publisher","description":"valid token, but no corresponding publisher"}]}"#;
        let msg = exchange_error(422, body);
        assert!(
            msg.contains("(422)") && msg.contains("no corresponding publisher"),
            "{msg}"
        );
        let msg = exchange_error(403, r#"{"message":"Trusted publishing is disabled"}"#);
        assert!(
            msg.contains("not enabled") && msg.contains("disabled"),
            "{msg}"
        );
    }

    #[test]
    fn claims_are_decoded_and_the_token_is_not_shown() {
        // header.payload.signature, the payload as GitHub issues it.
        let payload = r#"{"sub":"repo:o/r:environment:pypi","repository":"o/r","repository_owner":"o","workflow_ref":"o/r/.github/workflows/cd.yml@refs/tags/v0.7.0","job_workflow_ref":"o/r/.github/workflows/cd.yml@refs/tags/v0.7.0","ref":"refs/tags/v0.7.0","environment":"pypi","event_name":"release"}"#;
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", encode(payload.as_bytes()));
        let claims = token_claims(&jwt).expect("claims");
        for line in [
            "  repository: o/r",
            "  workflow_ref: o/r/.github/workflows/cd.yml@refs/tags/v0.7.0",
            "  ref: refs/tags/v0.7.0",
            "  environment: pypi",
        ] {
            assert!(claims.lines().any(|l| l == line), "{line}: {claims}");
        }
        assert!(
            !claims.contains("c2ln") && !claims.contains("eyJ"),
            "{claims}"
        );
        let without_env = format!("a.{}.b", encode(br#"{"repository":"o/r"}"#));
        assert!(token_claims(&without_env)
            .expect("claims")
            .contains("environment: (none: the job names no environment)"));
        assert_eq!(token_claims("not-a-jwt"), None);
        assert_eq!(token_claims("a.!!!.b"), None);
    }

    /// Unpadded base64url, for the test's token.
    fn encode(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
