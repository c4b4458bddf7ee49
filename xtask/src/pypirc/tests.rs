use super::*;

const D: Defaults = Defaults {
    pypi: "https://pypi.example.invalid/legacy/",
    testpypi: "https://test.example.invalid/legacy/",
};

fn pick(text: Option<&str>, name: &str) -> Result<Repository, BadInput> {
    choose(text, "~/.pypirc", name, &D)
}

#[test]
fn the_file_is_read_as_python_reads_it() {
    let ini = Ini::parse(
        "# a comment\n; another\n[distutils]\nindex-servers =\n    pypi\n    sandbox\n\n[sandbox]\nRepository: http://127.0.0.1:8080/\nusername = me\npassword = a=b:c # not a comment\n",
    )
    .expect("parses");
    assert_eq!(ini.get("distutils", "index-servers"), Some("pypi\nsandbox"));
    assert_eq!(
        ini.get("sandbox", "repository"),
        Some("http://127.0.0.1:8080/")
    );
    assert_eq!(
        ini.get("sandbox", "password"),
        Some("a=b:c # not a comment")
    );
    for bad in ["key = value\n", "[open\n", "[s]\njust words\n"] {
        assert!(Ini::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn repositories_follow_twines_rules() {
    // No file: pypi and testpypi with twine's URLs, no credentials.
    let pypi = pick(None, "pypi").expect("pypi");
    assert_eq!(pypi.url.as_deref(), Some(D.pypi));
    assert_eq!(pypi.password, None);
    assert_eq!(
        pick(None, "testpypi").expect("testpypi").url.as_deref(),
        Some(D.testpypi)
    );

    let text = "[distutils]\nindex-servers = pypi sandbox\n\n[server-login]\nusername = fallback\n\n[pypi]\npassword = pypi-token\n\n[sandbox]\nrepository = http://127.0.0.1:8080/\npassword = sandbox-pw\n\n[forgotten]\nrepository = http://127.0.0.1:9/\n";
    let sandbox = pick(Some(text), "sandbox").expect("sandbox");
    assert_eq!(sandbox.url.as_deref(), Some("http://127.0.0.1:8080/"));
    assert_eq!(sandbox.username.as_deref(), Some("fallback"));
    assert_eq!(sandbox.password.as_deref(), Some("sandbox-pw"));
    let pypi = pick(Some(text), "pypi").expect("pypi");
    assert_eq!(pypi.password.as_deref(), Some("pypi-token"));
    assert_eq!(pypi.url.as_deref(), Some(D.pypi));
    // testpypi is not listed: twine does not know it in this file.
    let err = pick(Some(text), "testpypi").expect_err("not listed");
    assert!(err.0.contains("it has: pypi, sandbox"), "{}", err.0);
    // A section that index-servers does not list is ignored, and said so.
    let err = pick(Some(text), "forgotten").expect_err("not listed");
    assert!(
        err.0
            .contains("`index-servers` under [distutils] does not list it"),
        "{}",
        err.0
    );
    let err = pick(Some(text), "nowhere").expect_err("unknown");
    assert!(
        err.0
            .starts_with("there is no repository `nowhere` in ~/.pypirc"),
        "{}",
        err.0
    );
    assert!(
        !err.0.contains("sandbox-pw") && !err.0.contains("pypi-token"),
        "{}",
        err.0
    );
}

#[test]
fn a_listed_section_without_a_url_and_a_broken_file_are_bad_input() {
    let text = "[distutils]\nindex-servers = company\n[company]\nusername = me\n";
    let err = pick(Some(text), "company").expect_err("no url");
    assert!(err.0.contains("has no `repository = URL`"), "{}", err.0);
    let err = pick(Some("password = leaked\n"), "pypi").expect_err("broken");
    assert!(
        err.0.contains("cannot be read as twine's configuration"),
        "{}",
        err.0
    );
    assert!(!err.0.contains("leaked"), "{}", err.0);
}
