//! Secrets: every credential the xtask may see (twine's variables, the
//! userinfo of any index URL, GitHub tokens, minted index tokens) is
//! registered once and removed from anything the xtask prints. They reach
//! child processes by environment only, never as arguments.

use std::sync::Mutex;

use xshell::Shell;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Environment variables that hold a credential.
pub const CREDENTIAL_VARS: &[&str] = &[
    "TWINE_PASSWORD",
    "GITHUB_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
];

/// Environment variables holding URLs that may carry `user:password@`.
pub const URL_VARS: &[&str] = &["TWINE_REPOSITORY_URL", "XTASK_INDEX_URL"];

/// Remembers a secret so `redact` removes it. Very short values are not
/// secrets worth hiding and would blank out ordinary text.
pub fn register(secret: &str) {
    if secret.len() < 4 {
        return;
    }
    if let Ok(mut all) = SECRETS.lock() {
        if !all.iter().any(|s| s == secret) {
            all.push(secret.to_string());
            // Longest first, so a secret containing another is hidden whole.
            all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }
}

/// Remembers a login: the password, and the `Authorization: Basic`
/// value that carries it with the username (base64 of `user:password`),
/// which an index or proxy may echo back in an error page.
/// Both encodings a client may use are registered: UTF-8, and Latin-1
/// (what twine's HTTP library sends when every character fits in it).
pub fn register_login(username: &str, password: &str) {
    register(password);
    if password.is_empty() {
        return;
    }
    let pair = format!("{username}:{password}");
    register(&base64(pair.as_bytes()));
    let latin1: Option<Vec<u8>> = pair
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    if let Some(bytes) = latin1 {
        register(&base64(&bytes));
    }
}

/// Registers every credential the environment holds.
pub fn register_env(sh: &Shell) {
    for var in CREDENTIAL_VARS {
        if let Ok(value) = sh.var(var) {
            register(&value);
        }
    }
    if let Ok(password) = sh.var("TWINE_PASSWORD") {
        // Twine's own default username when none is given.
        let username = sh
            .var("TWINE_USERNAME")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "__token__".into());
        register_login(&username, &password);
    }
    for var in URL_VARS {
        if let Ok(url) = sh.var(var) {
            if let (_, Some(user)) = strip_userinfo(&url) {
                register_login(&user.username, &user.password);
                // Percent-encoded forms as they appear in the URL itself.
                register(&user.raw);
            }
        }
    }
}

/// Text about to be printed, with every registered secret replaced.
pub fn redact(text: &str) -> String {
    let Ok(all) = SECRETS.lock() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for secret in all.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

/// Standard base64 with padding, for a Basic authorization header.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Credentials found in a URL's userinfo.
#[derive(Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub password: String,
    /// The userinfo exactly as written (`user:pass`, maybe percent-encoded).
    pub raw: String,
}

/// The URL without `user:password@`, and the credentials it carried
/// (percent-decoded), to pass to twine by environment instead.
pub fn strip_userinfo(url: &str) -> (String, Option<UserInfo>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    (
        format!("{scheme}://{host}{path}"),
        Some(UserInfo {
            username: percent_decode(user),
            password: percent_decode(pass),
            raw: userinfo.to_string(),
        }),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Asks the GitHub Actions runner to mask a secret in its logs. Outside
/// Actions nothing is printed: the secret would be shown in clear.
pub fn mask_in_actions(sh: &Shell, secret: &str) {
    register(secret);
    if sh.var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") && !secret.contains(['\n', '\r']) {
        println!("::add-mask::{secret}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_stripped_and_decoded() {
        let (url, user) = strip_userinfo("https://me:p%40ss@index.test:8080/legacy/");
        assert_eq!(url, "https://index.test:8080/legacy/");
        let user = user.expect("credentials");
        assert_eq!(user.username, "me");
        assert_eq!(user.password, "p@ss");
        assert_eq!(user.raw, "me:p%40ss");
        assert_eq!(
            strip_userinfo("http://127.0.0.1:9/"),
            ("http://127.0.0.1:9/".to_string(), None)
        );
        // An @ in the path is not userinfo.
        assert_eq!(strip_userinfo("http://h/a@b").0, "http://h/a@b".to_string());
        assert_eq!(
            strip_userinfo("https://tok@h/").1.map(|u| u.password),
            Some(String::new())
        );
    }

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:pw", "dXNlcjpwdw=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn a_login_is_redacted_in_an_echoed_basic_header() {
        register_login("uploader", "p@ss:w/rd%20#?&");
        let echoed = format!(
            "Authorization: Basic {}",
            base64(b"uploader:p@ss:w/rd%20#?&")
        );
        assert_eq!(redact(&echoed), "Authorization: Basic ***");
        // A password beyond ASCII, sent as UTF-8 or as Latin-1.
        register_login("uploader", "p\u{e9}ss-w\u{f6}rd");
        let utf8 = base64("uploader:p\u{e9}ss-w\u{f6}rd".as_bytes());
        let latin1 = base64(b"uploader:p\xe9ss-w\xf6rd");
        assert_eq!(redact(&format!("{utf8} {latin1}")), "*** ***");
    }

    #[test]
    fn registered_secrets_are_redacted() {
        register("hunter22-secret");
        register("x");
        assert_eq!(redact("pw=hunter22-secret ok x"), "pw=*** ok x");
    }
}
