//! Values that stand for a secret without being one: template variables, environment lookups,
//! code expressions, documentation placeholders and obviously made-up strings. The word lists
//! live in `heuristics.toml`.

use super::heuristics::heuristics;

/// Why `value` is a placeholder, reference or non-secret, or `None` if it may be a secret.
pub fn placeholder_reason(value: &[u8]) -> Option<&'static str> {
    let value = strip_quotes(value);
    let lists = heuristics();
    let starts = |prefix: &[u8]| {
        value.len() >= prefix.len() && value[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    if lists.is_non_value(value) {
        return Some("a keyword, not a value");
    }
    if lists.has_reference_marker(value) {
        return Some("a template or reference to a secret kept elsewhere");
    }
    if is_variable_reference(value) {
        return Some("a variable reference");
    }
    if lists.has_placeholder_word(value) {
        return Some("a placeholder");
    }
    if value.windows(3).any(|w| w == b"://") || starts(b"/") || starts(b"./") || starts(b"~/") {
        return Some("a URL or path");
    }
    if starts(b"data:") {
        return Some("a data URI");
    }
    if lists.has_file_suffix(value) {
        return Some("a file name");
    }
    if is_code_expression(value) {
        return Some("a code expression");
    }
    if is_identifier_like(value) {
        return Some("an identifier or constant name");
    }
    if is_repetitive(value) {
        return Some("repeated or sequential characters");
    }
    if is_timestamp(value) {
        return Some("a date or time");
    }
    None
}

/// Whether `host` is reserved for documentation and examples (`example.com`, `db.test`), or
/// is a word standing for a host (`host`, `hostname`).
pub fn is_documentation_host(host: &[u8]) -> bool {
    let host = String::from_utf8_lossy(host).to_ascii_lowercase();
    // Manual pages write `example\&.org` (a roff zero-width break) and `\fIhost\fR` (font changes).
    let host = without_roff_escapes(&host);
    // A port or a path may follow (`example.org:8080`, netrc's `example.org/debian`).
    let host = host.split([':', '/']).next().unwrap_or_default();
    if heuristics().placeholder_hosts.iter().any(|h| h == host) {
        return true;
    }
    heuristics().documentation_domains.iter().any(|d| {
        host == *d
            || host
                .strip_suffix(d.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// `example\&.org` → `example.org`, `\fIhost\fR` → `host`.
fn without_roff_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('&') | None => {}
            Some('f') => {
                chars.next();
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// ISO 8601 dates and times: `2016-09-08`, `2016-09-08T21:47:36Z`.
fn is_timestamp(value: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| {
        value
            .get(r)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    value.len() >= 10
        && digits(0..4)
        && value[4] == b'-'
        && digits(5..7)
        && value[7] == b'-'
        && digits(8..10)
}

fn strip_quotes(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] | [b'\'', inner @ .., b'\''] => inner,
        _ => value,
    }
}

/// `$VAR`, `%VAR%`, `@VAR@`, `__VAR__`, `<VAR>`, `{var}`, `:var` and similar stand-ins.
fn is_variable_reference(value: &[u8]) -> bool {
    let ident = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    };
    match value {
        [b'$', rest @ ..] => ident(rest),
        [b':', rest @ ..] => ident(rest),
        [b'%', inner @ .., b'%'] | [b'@', inner @ .., b'@'] | [b'<', inner @ .., b'>'] => {
            inner.is_empty() || ident(inner) || inner.contains(&b' ')
        }
        [b'_', b'_', inner @ .., b'_', b'_'] => ident(inner),
        [b'{', rest @ ..] => rest.contains(&b'}'),
        _ => false,
    }
}

/// Function calls, indexing, member access and concatenations: `getPassword()`,
/// `Jobs[-1].JobId`, `cfg.db.password`, `"a" + b`.
fn is_code_expression(value: &[u8]) -> bool {
    let brackets = |open, close| value.contains(&open) && value.contains(&close);
    if brackets(b'(', b')') || (brackets(b'[', b']') && value.contains(&b'.')) {
        return true;
    }
    // dotted.identifier.path made only of identifier characters and dots
    let dotted = value.contains(&b'.')
        && value.split(|&b| b == b'.').all(|seg| {
            !seg.is_empty()
                && seg[0].is_ascii_alphabetic()
                && seg.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        });
    dotted || value.windows(3).any(|w| w == b" + " || w == b" . ")
}

/// `API_KEY`, `MY_SECRET_TOKEN`, `passwordField`, `db-password`: names, not values. A value of
/// letters and separators only that is mostly dictionary words is a name; a random run of
/// letters is not.
fn is_identifier_like(value: &[u8]) -> bool {
    let letters_and_separators = value
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.'));
    let upper_snake = value
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && value.contains(&b'_');
    (letters_and_separators && super::words::word_coverage(value) >= 0.4) || upper_snake
}

/// Runs of one character (`aaaa`) or of consecutive ones (`abcd`, `4321`) that cover most of
/// the value.
fn is_repetitive(value: &[u8]) -> bool {
    if value.len() < 2 {
        return true;
    }
    let mut in_runs = 0usize;
    let mut run = 1usize;
    for pair in value.windows(2) {
        let step = i16::from(pair[1]) - i16::from(pair[0]);
        if (-1..=1).contains(&step) {
            run += 1;
        } else {
            if run >= 4 {
                in_runs += run;
            }
            run = 1;
        }
    }
    if run >= 4 {
        in_runs += run;
    }
    in_runs * 2 >= value.len()
}

#[cfg(test)]
mod tests {
    use super::placeholder_reason;

    fn is_placeholder(v: &str) -> bool {
        placeholder_reason(v.as_bytes()).is_some()
    }

    #[test]
    fn templates_and_references_are_placeholders() {
        for v in [
            "${DB_PASSWORD}",
            "{{ .Values.password }}",
            "{{password}}",
            "os.environ['SECRET']",
            "process.env.API_KEY",
            "%(password)s",
            "$PASSWORD",
            "%APPDATA%",
            "@DB_PASS@",
            "__SECRET__",
            "<password>",
            "<your api key>",
            "getSecret()",
            "config.database.password",
            "${{ secrets.NPM_TOKEN }}",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
    }

    #[test]
    fn documentation_values_are_placeholders() {
        for v in [
            "changeme",
            "your_api_key_here",
            "xxxxxxxxxxxxxxxx",
            "********",
            "REDACTED",
            "example-token-123",
            "dummy_secret_99",
            "abcdefghijklmnop",
            "1234567890",
            "aaaaaaaaaaaa",
            "true",
            "null",
            "API_KEY",
            "passwordField",
            "/etc/secrets/db",
            "https://example.org/token",
            "server.key",
            "{auth_token}'",
            "\"pass\"",
            "4AEA6u7J...The",
            "2016-09-08T21:47:36Z",
            "Jobs[-1].JobId",
            "export-token-cu4lg26ofcziixny",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
    }

    #[test]
    fn documentation_hosts_are_recognised() {
        assert!(super::is_documentation_host(b"example.com"));
        assert!(super::is_documentation_host(b"example\\&.org"));
        assert!(super::is_documentation_host(b"example.org/debian/"));
        assert!(super::is_documentation_host(b"\\fIexample.net\\fR"));
        assert!(super::is_documentation_host(b"api.EXAMPLE.org"));
        assert!(super::is_documentation_host(b"db.test"));
        assert!(!super::is_documentation_host(b"example.company.io"));
        assert!(!super::is_documentation_host(b"latest"));
        assert!(!super::is_documentation_host(b"db.internal"));
        assert!(super::is_documentation_host(b"host"));
        assert!(super::is_documentation_host(b"hostname:5432"));
        assert!(!super::is_documentation_host(b"localhost"));
        assert!(!super::is_documentation_host(b"hosting.io"));
    }

    #[test]
    fn random_values_are_not_placeholders() {
        for v in [
            "q8Zr2LxV0pTn4KmW7sYb",
            "9f86d081884c7d659a2feaa0c55ad015",
            "Tr0ub4dor&3x!",
            "hG7#kP2$vL9q",
        ] {
            assert!(!is_placeholder(v), "{v}");
        }
    }
}
