//! `{name}` templates in verification checks: `{secret}`, the match's named groups (`{id}`),
//! or a companion's name. A literal brace is written `{{` or `}}`.

/// The names a template uses, or why it is malformed.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    parse(template, |piece| {
        if let Piece::Name(name) = piece {
            names.push(name);
        }
    })?;
    Ok(names)
}

/// How a value is written into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As is (headers, bodies).
    None,
    /// Percent-encoded (URL paths and queries).
    Url,
    /// A host name label (`acme` in `https://{shop}.myshopify.com`): letters, digits and
    /// inner hyphens only, so a value can never move the request to another host.
    Label,
}

/// `template` with each `{name}` replaced by `value(name)`.
pub fn render<'v>(
    template: &str,
    value: impl Fn(&str) -> Option<&'v str>,
    escape: Escape,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut unknown = None;
    let mut bad_label = None;
    parse(template, |piece| match piece {
        Piece::Text(text) => out.push_str(text),
        Piece::Name(name) => match (value(name), escape) {
            (Some(v), Escape::None) => out.push_str(v),
            (Some(v), Escape::Url) => out.push_str(&crate::net::percent_encode(v)),
            (Some(v), Escape::Label) if is_label(v) => out.push_str(&v.to_ascii_lowercase()),
            (Some(_), Escape::Label) => bad_label = Some(name.to_string()),
            (None, _) => unknown = Some(name.to_string()),
        },
    })?;
    if let Some(name) = bad_label {
        return Err(format!("{{{name}}} is not a host name label"));
    }
    match unknown {
        Some(name) => Err(format!("no value for {{{name}}}")),
        None => Ok(out),
    }
}

/// A DNS label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen.
fn is_label(value: &str) -> bool {
    (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

enum Piece<'a> {
    Text(&'a str),
    Name(&'a str),
}

fn parse<'a>(template: &'a str, mut emit: impl FnMut(Piece<'a>)) -> Result<(), String> {
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        emit(Piece::Text(&rest[..i]));
        let after = &rest[i + 1..];
        if rest[i..].starts_with("{{") {
            emit(Piece::Text("{"));
            rest = &rest[i + 2..];
        } else if rest[i..].starts_with("}}") {
            emit(Piece::Text("}"));
            rest = &rest[i + 2..];
        } else if rest.as_bytes()[i] == b'}' {
            return Err("unmatched }".to_string());
        } else {
            let end = after.find('}').ok_or("unterminated {")?;
            let name = &after[..end];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("bad placeholder {{{name}}}"));
            }
            emit(Piece::Name(name));
            rest = &after[end + 1..];
        }
    }
    emit(Piece::Text(rest));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<&'static str> {
        match name {
            "secret" => Some("1:a/b"),
            "id" => Some("AKID"),
            _ => None,
        }
    }

    #[test]
    fn renders_names_and_literal_braces() {
        assert_eq!(
            render("Bearer {secret} {id}", values, Escape::None).unwrap(),
            "Bearer 1:a/b AKID"
        );
        assert_eq!(
            render("{{\"q\": \"{id}\"}}", values, Escape::None).unwrap(),
            "{\"q\": \"AKID\"}"
        );
        assert_eq!(
            render("/bot{secret}/getMe", values, Escape::Url).unwrap(),
            "/bot1%3Aa%2Fb/getMe"
        );
        assert!(render("{user}", values, Escape::None)
            .unwrap_err()
            .contains("{user}"));
    }

    #[test]
    fn host_labels_cannot_leave_their_domain() {
        let shop = |v: &'static str| move |name: &str| (name == "shop").then_some(v);
        let base = "https://{shop}.myshopify.com";
        assert_eq!(
            render(base, shop("Acme-Store"), Escape::Label).unwrap(),
            "https://acme-store.myshopify.com"
        );
        for hostile in ["evil.com/x", "evil.com#", "a@b", "", "-x", "a.b"] {
            let err = render(base, shop(hostile), Escape::Label).unwrap_err();
            assert!(err.contains("host name label"), "{hostile}: {err}");
        }
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert!(placeholders("{secret").is_err());
        assert!(placeholders("secret}").is_err());
        assert!(placeholders("{a b}").is_err());
        assert!(placeholders("{}").is_err());
        assert_eq!(placeholders("{secret}:{id}").unwrap(), ["secret", "id"]);
    }
}
