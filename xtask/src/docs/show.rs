//! What the docs commands print about a site: its versions, short commit
//! names, and the dry-run banner.

use crate::docs_versions::DocsVersion;

pub(super) fn short(commit: &str) -> String {
    commit[..commit.len().min(10)].to_string()
}

pub(super) fn print_versions(list: &[DocsVersion], default: Option<&str>) {
    if list.is_empty() {
        println!("    (no docs versions)");
    }
    for v in list {
        let aliases = if v.aliases.is_empty() {
            String::new()
        } else {
            format!("  [{}]", v.aliases.join(", "))
        };
        let title = if v.title == v.name {
            String::new()
        } else {
            format!("  \"{}\"", v.title)
        };
        let unreleased = if v.marked_unreleased() {
            "  (unreleased)"
        } else {
            ""
        };
        println!("    {}{title}{aliases}{unreleased}", v.name);
    }
    println!("    default: {}", default.unwrap_or("(none)"));
}

pub(super) fn dry_run_banner() {
    println!("dry run: nothing will be changed (the remote is read, not written)");
}
