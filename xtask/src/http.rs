//! HTTP for every call the xtask makes (the package index, the GitHub
//! REST API, trusted publishing): one agent that trusts what twine and pip
//! trust, names itself, and never waits forever; plus the small pure
//! helpers those calls share (query encoding, durations, reset times).

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::input::clip;
use crate::input::BadInput;

/// Names the project and the xtask's version, as GitHub asks of API clients.
pub const USER_AGENT: &str = concat!("mindoff-dataport-xtask/", env!("CARGO_PKG_VERSION"));

/// PEM bundles named here are trusted on top of the built-in roots: the
/// variables OpenSSL, requests (so twine) and pip read, so that verify
/// works wherever the upload worked.
pub const CA_BUNDLE_VARS: [&str; 3] = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT"];

/// The one agent: built-in roots plus the bundles named by
/// [`CA_BUNDLE_VARS`], a user agent, connect and overall timeouts; HTTP
/// status codes are answers, not errors. Read from the process
/// environment once (the callers of `index::fetch` hold no Shell).
pub fn agent() -> Result<ureq::Agent> {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    if let Some(agent) = AGENT.get() {
        return Ok(agent.clone());
    }
    let bundles: Vec<(String, String)> = CA_BUNDLE_VARS
        .iter()
        .filter_map(|name| {
            let value = std::env::var(name).ok()?;
            (!value.trim().is_empty()).then(|| (name.to_string(), value))
        })
        .collect();
    let mut roots: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()))
        .collect();
    for (name, path) in &bundles {
        roots.extend(read_bundle(name, path)?);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .user_agent(USER_AGENT)
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&roots))
                .build(),
        )
        .build()
        .into();
    Ok(AGENT.get_or_init(|| agent).clone())
}

/// The certificates of a PEM bundle; a bundle that cannot be read or holds
/// none is bad input naming the variable, never silently ignored.
fn read_bundle(name: &str, path: &str) -> Result<Vec<Certificate<'static>>> {
    let bytes = std::fs::read(path).map_err(|e| {
        BadInput(format!(
            "{name}={} cannot be read ({e}): point it at a PEM bundle of CA certificates, or unset it",
            clip(path)
        ))
    })?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => {
                return Err(BadInput(format!(
                    "{name}={} is not a valid PEM bundle ({e})",
                    clip(path)
                ))
                .into())
            }
        }
    }
    if certs.is_empty() {
        return Err(BadInput(format!(
            "{name}={} holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)",
            clip(path)
        ))
        .into());
    }
    Ok(certs)
}

/// A failed call as an error saying what was being done, with a hint when
/// the cause is a certificate the agent does not trust.
pub fn failed(err: ureq::Error, what: &str) -> anyhow::Error {
    let text = err.to_string();
    let lower = text.to_ascii_lowercase();
    let hint = if lower.contains("certificate") || lower.contains("unknownissuer") {
        format!(
            ": the server's TLS certificate is not trusted; if twine or pip reach this server \
with a company CA, point {} at the same PEM bundle",
            CA_BUNDLE_VARS.join(", ")
        )
    } else {
        String::new()
    };
    anyhow!(err).context(format!("{what}{hint}"))
}

/// The status and text body of a response.
pub fn read(response: &mut ureq::http::Response<ureq::Body>, what: &str) -> Result<(u16, String)> {
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading the answer to {what}"))?;
    Ok((status, body))
}

/// A response header as text, when present and readable.
pub fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// RFC 3986 percent-encoding of a query value: only unreserved characters
/// stay as they are.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `url` with `name=value` appended to its query, the value encoded.
pub fn with_query(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let mut out = format!("{base}{separator}{name}={}", encode_query_value(value));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The host of an `http(s)://` URL, without port or brackets.
pub fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    Some(authority.split(':').next().unwrap_or(authority))
}

/// A URL a credential may be sent to: https, or plain http to this machine
/// only (the tests' loopback stubs).
pub fn credential_safe(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return host(url).is_some_and(|h| !h.is_empty());
    }
    lower.starts_with("http://")
        && matches!(
            host(url).map(str::to_ascii_lowercase).as_deref(),
            Some("127.0.0.1" | "localhost" | "::1")
        )
}

/// A duration as `900` (seconds), `5s`, `2m` or `1h`; anything else is
/// `None`, never a silent default.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query_value("pypi"), "pypi");
        assert_eq!(encode_query_value("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            with_query("https://x/id?api-version=2.0", "audience", "my index"),
            "https://x/id?api-version=2.0&audience=my%20index"
        );
        assert_eq!(
            with_query("https://x/id", "audience", "a&b"),
            "https://x/id?audience=a%26b"
        );
        assert_eq!(with_query("https://x/id?", "a", "b"), "https://x/id?a=b");
        assert_eq!(with_query("https://x/id#f", "a", "b"), "https://x/id?a=b#f");
    }

    #[test]
    fn credentials_go_over_https_or_to_this_machine() {
        for ok in [
            "https://upload.example.test/legacy/",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "HTTP://LOCALHOST:1/",
            "http://[::1]:9000/x",
        ] {
            assert!(credential_safe(ok), "{ok}");
        }
        for bad in [
            "http://upload.example.test/legacy/",
            "http://127.0.0.1.example.test/",
            "http://user@evil.test/",
            "ftp://127.0.0.1/",
            "https:///nohost",
            "127.0.0.1:8080",
        ] {
            assert!(!credential_safe(bad), "{bad}");
        }
        assert_eq!(host("http://u:p@127.0.0.1:9/x"), Some("127.0.0.1"));
    }

    #[test]
    fn durations_are_parsed_strictly() {
        assert_eq!(parse_duration("900"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        for bad in ["", "s", "5 s", "-1", "1.5", "5sec", "5d", "99999999999"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn unix_times_read_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn bundles_that_hold_no_certificate_are_refused() {
        let dir = std::env::temp_dir().join(format!("xtask-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a bundle\n").expect("write");
        let err =
            read_bundle("SSL_CERT_FILE", &empty.display().to_string()).expect_err("no certificate");
        assert!(
            err.to_string().contains("holds no PEM certificate"),
            "{err}"
        );
        let err = read_bundle("PIP_CERT", "/nonexistent/ca.pem").expect_err("missing file");
        assert!(
            err.to_string()
                .starts_with("PIP_CERT=/nonexistent/ca.pem cannot be read"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
