//! Where secrets come from besides the JSON: `${VAR}` environment references and my.cnf-style
//! credentials files. Pure functions; `load.rs` applies them to a `Config`.

/// User and password found under `[client]` in a my.cnf-style file.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ClientCredentials {
    pub(crate) user: Option<String>,
    /// Not a `Secret` yet: it may still hold a `${VAR}` to expand.
    pub(crate) password: Option<String>,
}

/// Reads `path` and returns its `[client]` user/password. The error text never contains the
/// file's content.
pub(crate) fn read_client_credentials(path: &str) -> Result<ClientCredentials, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let found = parse_client_credentials(&text);
    if found.user.is_none() && found.password.is_none() {
        return Err("no user or password under [client]".to_owned());
    }
    Ok(found)
}

/// Parses a my.cnf-style text: `[section]` headers, `key = value` lines, `#`/`;` comment
/// lines, `!include` directives (ignored), values optionally quoted. Only `user` and `password`
/// of the `[client]` section are kept (names are case-insensitive; `-`/`_` are equivalent
/// elsewhere in MySQL but these two names have neither). Unlike orchestrator (gcfg), other
/// options and sections are ignored rather than refused, since real my.cnf files have them.
pub(crate) fn parse_client_credentials(text: &str) -> ClientCredentials {
    let mut found = ClientCredentials::default();
    let mut in_client = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with(';')
            || line.starts_with('!')
        {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.split(']').next().unwrap_or("").trim();
            in_client = name.eq_ignore_ascii_case("client");
            continue;
        }
        if !in_client {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name.trim(), option_value(value)),
            None => (line, String::new()),
        };
        if name.eq_ignore_ascii_case("user") {
            found.user = Some(value);
        } else if name.eq_ignore_ascii_case("password") {
            found.password = Some(value);
        }
    }
    found
}

/// An option value: quoted (`"..."` or `'...'`, with backslash escapes) or bare, where a `#`
/// starts a comment as in MySQL's option files.
fn option_value(raw: &str) -> String {
    let raw = raw.trim();
    let mut chars = raw.chars();
    match chars.next() {
        Some(quote @ ('"' | '\'')) => {
            let mut out = String::new();
            while let Some(c) = chars.next() {
                match c {
                    c if c == quote => return out,
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some('r') => out.push('\r'),
                        Some('0') => out.push('\0'),
                        Some(other) => out.push(other),
                        None => out.push('\\'),
                    },
                    c => out.push(c),
                }
            }
            // No closing quote: take the text as written.
            raw.to_owned()
        }
        _ => raw.split('#').next().unwrap_or("").trim_end().to_owned(),
    }
}

/// Replaces every `${NAME}` in `value` (NAME = letters, digits, `_`, not starting with a digit)
/// by `lookup(NAME)`. Returns `Ok(None)` when there is nothing to expand, `Err(NAME)` for the
/// first variable that is not set. Other `$` text is kept as written.
///
/// orchestrator replaced the whole value by the variable when it found `${...}` anywhere, and
/// used an empty string for unset variables; for the usual whole-value `${VAR}` both agree.
pub(crate) fn expand_env(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    if !value.contains("${") {
        return Ok(None);
    }
    let mut out = String::new();
    let mut rest = value;
    let mut expanded = false;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_end = after.find('}');
        match name_end.map(|end| &after[..end]) {
            Some(name) if is_var_name(name) => {
                let resolved = lookup(name).ok_or_else(|| name.to_owned())?;
                out.push_str(&resolved);
                expanded = true;
                rest = &after[name.len() + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(expanded.then_some(out))
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PW" => Some("s3cret".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_whole_and_embedded_references() {
        assert_eq!(expand_env("${PW}", &env), Ok(Some("s3cret".to_owned())));
        assert_eq!(
            expand_env("a${PW}b${EMPTY}", &env),
            Ok(Some("as3cretb".to_owned()))
        );
        assert_eq!(expand_env("plain", &env), Ok(None));
        assert_eq!(expand_env("${MISSING}", &env), Err("MISSING".to_owned()));
    }

    #[test]
    fn leaves_non_references_alone() {
        assert_eq!(expand_env("a${b", &env), Ok(None));
        assert_eq!(expand_env("${1X}", &env), Ok(None));
        assert_eq!(
            expand_env("${}${PW}", &env),
            Ok(Some("${}s3cret".to_owned()))
        );
        assert_eq!(expand_env("$PW", &env), Ok(None));
    }

    #[test]
    fn parses_client_section_only() {
        let text = "# comment\n[mysqld]\nuser = mysql\n\n[client]\nhost=db1\nuser = orc\npassword = \"p#ss \\\"w\\\"\"\n!includedir /etc/x\n[mysql]\npassword=other\n";
        let found = parse_client_credentials(text);
        assert_eq!(found.user.as_deref(), Some("orc"));
        assert_eq!(found.password.as_deref(), Some("p#ss \"w\""));
    }

    #[test]
    fn bare_values_stop_at_hash() {
        let found = parse_client_credentials("[CLIENT]\nUSER=u # who\npassword='x;y'\n");
        assert_eq!(found.user.as_deref(), Some("u"));
        assert_eq!(found.password.as_deref(), Some("x;y"));
    }

    #[test]
    fn missing_or_empty_files_are_errors() {
        assert!(read_client_credentials("/nonexistent/dir/creds.cnf").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.cnf");
        std::fs::write(&path, "[mysqld]\nuser=x\n").unwrap();
        let err = read_client_credentials(path.to_str().unwrap()).unwrap_err();
        assert!(err.contains("[client]"), "{err}");
    }
}
