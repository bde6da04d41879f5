//! `{name}` templates in verification checks. The only name today is `secret`; a literal brace
//! is written `{{` or `}}`.

/// The names a template uses, or why it is malformed.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    parse(template, |piece| {
        if let Piece::Name(name) = piece {
            names.push(name);
        }
    })?;
    for name in &names {
        if *name != "secret" {
            return Err(format!(
                "unknown placeholder {{{name}}} (only {{secret}} is known)"
            ));
        }
    }
    Ok(names)
}

/// How a value is written into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As is (headers, bodies).
    None,
    /// Percent-encoded (URL paths and queries).
    Url,
}

/// `template` with `{secret}` replaced by `secret`.
pub fn render(template: &str, secret: &str, escape: Escape) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + secret.len());
    let mut unknown = None;
    parse(template, |piece| match piece {
        Piece::Text(text) => out.push_str(text),
        Piece::Name("secret") => match escape {
            Escape::None => out.push_str(secret),
            Escape::Url => out.push_str(&percent_encode(secret)),
        },
        Piece::Name(name) => unknown = Some(name.to_string()),
    })?;
    match unknown {
        Some(name) => Err(format!("unknown placeholder {{{name}}}")),
        None => Ok(out),
    }
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

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_secret_and_literal_braces() {
        assert_eq!(
            render("Bearer {secret}", "abc", Escape::None).unwrap(),
            "Bearer abc"
        );
        assert_eq!(
            render("{{\"q\": \"{secret}\"}}", "a", Escape::None).unwrap(),
            "{\"q\": \"a\"}"
        );
        assert_eq!(
            render("/bot{secret}/getMe", "1:a/b", Escape::Url).unwrap(),
            "/bot1%3Aa%2Fb/getMe"
        );
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert!(placeholders("{secret").is_err());
        assert!(placeholders("secret}").is_err());
        assert!(placeholders("{user}").is_err());
        assert!(placeholders("{}").is_err());
        assert_eq!(placeholders("{secret}:{secret}").unwrap().len(), 2);
    }
}
