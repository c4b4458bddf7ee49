//! Trusted publishing: an Actions OIDC token exchanged for a short-lived
//! index token, with the endpoints derived from the upload URL.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use xshell::Shell;

use super::api::{agent, read_json};

/// The endpoints of trusted publishing, derived from the upload URL as
/// the official publishing action does: same origin, fixed paths.
pub fn oidc_endpoints(upload_url: &str) -> Option<(String, String)> {
    let (scheme, rest) = upload_url.split_once("://")?;
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
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
                .filter_map(|e| e["description"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let detail = if !descriptions.is_empty() {
        descriptions.join("; ")
    } else if let Some(m) = parsed["message"].as_str() {
        m.to_string()
    } else {
        body.trim().chars().take(300).collect()
    };
    match status {
        403 => format!("trusted publishing is not enabled or not allowed here (403): {detail}"),
        422 => format!("the index rejected the identity token (422): {detail}"),
        s => format!("the token exchange failed ({s}): {detail}"),
    }
}

/// Trusted publishing: the minted index token, or `None` when the Actions
/// OIDC variables are absent. The token is masked before anything else.
pub fn mint_index_token(sh: &Shell, upload_url: &str) -> Result<Option<String>> {
    let (Ok(request_url), Ok(request_token)) = (
        sh.var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        sh.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        return Ok(None);
    };
    let (audience_url, mint_url) = oidc_endpoints(upload_url)
        .ok_or_else(|| anyhow!("cannot derive the token-exchange endpoints from {upload_url}"))?;
    let agent = agent();
    let mut response = agent
        .get(&audience_url)
        .call()
        .with_context(|| format!("asking {audience_url} for the OIDC audience"))?;
    let (status, body) = read_json(&mut response, "the audience request")?;
    if status != 200 {
        bail!("{}", exchange_error(status, &body));
    }
    let audience = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["audience"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("{audience_url} returned no audience"))?;

    let separator = if request_url.contains('?') { '&' } else { '?' };
    let id_url = format!("{request_url}{separator}audience={audience}");
    let mut response = agent
        .get(&id_url)
        .header("Authorization", &format!("bearer {request_token}"))
        .call()
        .context("requesting the GitHub Actions OIDC token")?;
    let (status, body) = read_json(&mut response, "the Actions OIDC token request")?;
    if status != 200 {
        bail!("GitHub Actions refused the OIDC token request ({status}): is `id-token: write` granted?");
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
        .with_context(|| format!("exchanging the OIDC token at {mint_url}"))?;
    let (status, body) = read_json(&mut response, "the token exchange")?;
    if status != 200 {
        bail!("{}", exchange_error(status, &body));
    }
    let token = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["token"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("the token exchange answered without a token"))?;
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
}
