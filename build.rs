//! Links libhs when the `hyperscan` feature is on, and embeds every `signatures/*.toml` file in
//! the binary, twice over:
//!
//! * `builtin_signatures.rs`: `(file name, TOML text)` pairs in file-name order, so the built-in
//!   set is the same on every machine. `rules check`, `rules list` and the library's
//!   `RuleSet::builtin()` parse these, with full validation and line numbers.
//! * `builtin_scan_view.rs`: the fields a *scan* needs (id, names, keywords, pattern, flags,
//!   line numbers), already parsed into a static table. Parsing a megabyte of TOML was most of
//!   a hook's start-up; scans build their built-in signatures from this table instead. The
//!   table is derived from the same files and a test checks that both views agree. If a file
//!   does not parse here, the table says so and scans fall back to the TOML (whose errors are
//!   reported properly at run time).

use std::{env, fmt::Write as _, fs, path::Path};

fn main() {
    // The Hyperscan engine's hand-written bindings (src/engine/hyperscan/ffi.rs) link the
    // system library.
    if env::var_os("CARGO_FEATURE_HYPERSCAN").is_some() {
        println!("cargo:rustc-link-lib=hs");
    }

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("signatures");
    println!("cargo:rerun-if-changed={}", dir.display());

    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("signatures/ must exist")
        .map(|entry| entry.expect("readable signatures/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();

    let mut out = String::from("/// Built-in signature files: `(file name, TOML text)`.\n");
    out.push_str("pub static BUILTIN_SIGNATURE_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let out_dir = env::var("OUT_DIR").unwrap();
    fs::write(Path::new(&out_dir).join("builtin_signatures.rs"), out)
        .expect("write builtin_signatures.rs");

    let view = scan_view(&files).unwrap_or_else(|why| {
        println!("cargo:warning=built-in scan view not generated ({why}); scans will parse TOML");
        "pub static BUILTIN_SCAN_VIEW: Option<&[BuiltinSignature]> = None;\n".to_string()
    });
    fs::write(Path::new(&out_dir).join("builtin_scan_view.rs"), view)
        .expect("write builtin_scan_view.rs");
}

/// The static table of every signature's scan fields, as Rust source.
fn scan_view(files: &[std::path::PathBuf]) -> Result<String, String> {
    let mut out = String::from(
        "/// The scan view of every built-in signature, in file order (see build.rs).\n\
         pub static BUILTIN_SCAN_VIEW: Option<&[BuiltinSignature]> = Some(&[\n",
    );
    for (file_index, path) in files.iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy();
        let text = fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        let table: toml::Table = text.parse().map_err(|e| format!("{name}: {e}"))?;
        let signatures = match table.get("signature") {
            Some(toml::Value::Array(items)) => items.as_slice(),
            Some(_) => return Err(format!("{name}: `signature` is not an array")),
            None => &[],
        };
        let mut lines = SignatureLines::new(&text);
        for item in signatures {
            let sig = item
                .as_table()
                .ok_or_else(|| format!("{name}: a signature is not a table"))?;
            let (line, pattern_line) = lines
                .next()
                .ok_or_else(|| format!("{name}: cannot locate a [[signature]] header"))?;
            let field = |key: &'static str| Field {
                sig,
                key,
                name: &name,
            };
            writeln!(
                out,
                "    BuiltinSignature {{ file: {file_index}, line: {line}, pattern_line: {pattern_line}, \
                 id: {:?}, name: {:?}, provider: {:?}, category: {:?}, confidence: Confidence::{}, \
                 keywords: &{:?}, keywords_ignore_case: {}, keywordless: {}, pattern: {:?}, \
                 max_len: {:?}, min_entropy: {:?}, checksum: {}, generic: {}, reject_placeholders: {} }},",
                field("id").string()?,
                field("name").string()?,
                field("provider").string()?,
                field("category").string()?,
                camel(&field("confidence").string()?),
                field("keywords").strings()?,
                field("keywords_ignore_case").boolean()?,
                field("keywordless").boolean()?,
                field("pattern").string()?,
                field("max_len").integer()?,
                field("min_entropy").float()?,
                match field("checksum").optional_string()? {
                    Some(kind) => format!("Some(ChecksumKind::{})", camel(&kind)),
                    None => "None".to_string(),
                },
                field("generic").boolean()?,
                field("reject_placeholders").boolean()?,
            )
            .unwrap();
        }
    }
    out.push_str("]);\n");
    Ok(out)
}

/// One field of a signature table, with the conversions the table needs.
struct Field<'a> {
    sig: &'a toml::Table,
    key: &'a str,
    name: &'a str,
}

impl Field<'_> {
    fn bad(&self) -> String {
        format!("{}: field `{}` has an unexpected type", self.name, self.key)
    }
    fn string(&self) -> Result<String, String> {
        self.optional_string()?
            .ok_or_else(|| format!("{}: missing `{}`", self.name, self.key))
    }
    fn optional_string(&self) -> Result<Option<String>, String> {
        match self.sig.get(self.key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.bad()),
        }
    }
    fn strings(&self) -> Result<Vec<String>, String> {
        match self.sig.get(self.key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| self.bad()))
                .collect(),
            Some(_) => Err(self.bad()),
        }
    }
    fn boolean(&self) -> Result<bool, String> {
        match self.sig.get(self.key) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(self.bad()),
        }
    }
    fn integer(&self) -> Result<Option<usize>, String> {
        match self.sig.get(self.key) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) => usize::try_from(*n).map(Some).map_err(|_| self.bad()),
            Some(_) => Err(self.bad()),
        }
    }
    fn float(&self) -> Result<Option<f64>, String> {
        match self.sig.get(self.key) {
            None => Ok(None),
            Some(toml::Value::Float(x)) => Ok(Some(*x)),
            Some(toml::Value::Integer(n)) => Ok(Some(*n as f64)),
            Some(_) => Err(self.bad()),
        }
    }
}

/// `base62-crc32` → `Base62Crc32`, `high` → `High`: serde's kebab/lowercase names as variants.
fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Finds, signature by signature, the 1-based lines of the `id` and `pattern` keys, the same
/// lines the TOML loader reports.
struct SignatureLines<'a> {
    lines: std::iter::Peekable<std::iter::Enumerate<std::str::Lines<'a>>>,
}

impl<'a> SignatureLines<'a> {
    fn new(text: &'a str) -> Self {
        SignatureLines {
            lines: text.lines().enumerate().peekable(),
        }
    }

    fn next(&mut self) -> Option<(usize, usize)> {
        // Skip to the next header.
        for (_, line) in self.lines.by_ref() {
            if line.trim_start().starts_with("[[signature]]") {
                break;
            }
        }
        let (mut id_line, mut pattern_line) = (None, None);
        while let Some((n, line)) = self.lines.peek() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("[[signature]]") {
                break;
            }
            let key = trimmed.split(['=', ' ']).next().unwrap_or("");
            match key {
                "id" if id_line.is_none() => id_line = Some(n + 1),
                "pattern" if pattern_line.is_none() => pattern_line = Some(n + 1),
                _ => {}
            }
            self.lines.next();
        }
        Some((id_line?, pattern_line?))
    }
}
