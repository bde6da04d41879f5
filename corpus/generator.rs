//! Synthetic corpora for recall tests and benchmarks.
//!
//! Writes a tree of realistic-looking source and configuration files (Python, JavaScript, Go,
//! Rust, Java, YAML, JSON, .env, properties, XML, shell, Terraform, Markdown, lock files) and
//! plants the positive examples of keysift's signatures at known places, recording each in an
//! answer key. The filler is deliberately full of the things that trip secret scanners up:
//! `password_min_length`, `token_type = "bearer"`, environment lookups, template variables,
//! UUIDs, commit hashes, lock-file integrity hashes, base64 images, public keys. A correct
//! scanner finds every planted secret and nothing in the filler.
//!
//! Deterministic: the same seed and size give the same bytes. No external randomness crate:
//! a SplitMix64 generator is all this needs.
//!
//! Used by `cargo run --release --example gen-corpus`, the recall test and the benches, each of
//! which includes this file with `#[path]`.
#![allow(dead_code)]

use std::{
    fmt::Write as _,
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use keysift::rules::RuleSet;
use serde::Serialize;

/// What to generate.
#[derive(Debug, Clone)]
pub struct CorpusConfig {
    /// Approximate total size of the files, in bytes.
    pub total_bytes: u64,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
    /// Average filler bytes between two planted secrets.
    pub bytes_per_secret: u64,
    /// Typical (median) size of a file; sizes spread from an eighth to eight times this, with
    /// small files the most common, as in real trees.
    pub file_bytes: usize,
}

impl Default for CorpusConfig {
    fn default() -> Self {
        CorpusConfig {
            total_bytes: 8 << 20,
            seed: 1,
            bytes_per_secret: 64 << 10,
            file_bytes: 16 << 10,
        }
    }
}

/// One planted secret.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Planted {
    /// Path relative to the corpus root, with `/` separators.
    pub path: String,
    /// 1-based line of the secret's first character.
    pub line: usize,
    /// First and last line of the planted text: findings anywhere else are false positives.
    pub first_line: usize,
    /// Last line of the planted text.
    pub last_line: usize,
    /// The signature whose example was planted.
    pub signature_id: String,
}

/// The answer key of a generated corpus.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AnswerKey {
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
    /// Every planted secret.
    pub planted: Vec<Planted>,
}

/// SplitMix64: small, fast, good enough for test data.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

const WORDS: &[&str] = &[
    "user",
    "account",
    "order",
    "invoice",
    "payment",
    "customer",
    "session",
    "request",
    "response",
    "handler",
    "service",
    "client",
    "server",
    "config",
    "settings",
    "cache",
    "queue",
    "worker",
    "job",
    "task",
    "event",
    "message",
    "record",
    "item",
    "product",
    "cart",
    "price",
    "total",
    "count",
    "index",
    "value",
    "result",
    "error",
    "status",
    "state",
    "context",
    "buffer",
    "stream",
    "reader",
    "writer",
    "parser",
    "builder",
    "factory",
    "manager",
    "registry",
    "router",
    "route",
    "path",
    "file",
    "name",
    "title",
    "label",
    "description",
    "address",
    "email",
    "phone",
    "region",
    "zone",
    "cluster",
    "node",
    "pod",
    "volume",
    "bucket",
    "table",
    "column",
    "schema",
    "migration",
    "report",
    "metric",
    "counter",
    "timer",
    "retry",
    "limit",
    "offset",
    "page",
    "filter",
    "sort",
    "query",
    "search",
    "score",
    "weight",
    "feature",
    "flag",
    "option",
    "mode",
    "level",
    "layer",
    "channel",
    "topic",
    "subscriber",
    "publisher",
    "listener",
    "callback",
];

const HEX: &[u8] = b"0123456789abcdef";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The kinds of file generated, with their extensions.
const KINDS: &[(&str, &str)] = &[
    ("python", "py"),
    ("javascript", "js"),
    ("go", "go"),
    ("rust", "rs"),
    ("java", "java"),
    ("yaml", "yaml"),
    ("json", "json"),
    ("env", "env"),
    ("properties", "properties"),
    ("xml", "xml"),
    ("shell", "sh"),
    ("terraform", "tf"),
    ("markdown", "md"),
    ("lock", "lock"),
];

/// Produces filler lines in the style of one file kind.
struct Filler<'r> {
    rng: &'r mut Rng,
}

impl Filler<'_> {
    fn word(&mut self) -> &'static str {
        self.rng.pick::<&str>(WORDS)
    }

    fn ident(&mut self) -> String {
        format!("{}_{}", self.word(), self.word())
    }

    fn camel(&mut self) -> String {
        let (a, b) = (self.word(), self.word());
        format!("{a}{}{}", b[..1].to_ascii_uppercase(), &b[1..])
    }

    fn uuid(&mut self) -> String {
        let h = |r: &mut Rng, n| r.string(HEX, n);
        format!(
            "{}-{}-4{}-a{}-{}",
            h(self.rng, 8),
            h(self.rng, 4),
            h(self.rng, 3),
            h(self.rng, 3),
            h(self.rng, 12)
        )
    }

    /// One line of `kind`. Roughly one line in twelve is a near miss for secret scanners.
    fn line(&mut self, kind: &str) -> String {
        let trap = self.rng.below(12) == 0;
        if trap {
            return self.trap(kind);
        }
        let (a, b, c) = (self.ident(), self.camel(), self.word());
        let n = self.rng.below(10_000);
        match kind {
            "python" => match self.rng.below(5) {
                0 => format!("def {a}(self, {c}, retries={n}):"),
                1 => format!("    {a} = self.{c}.get(\"{b}\", {n})"),
                2 => format!("    # {} the {c} before {} it", self.word(), self.word()),
                3 => format!("    return [{c} for {c} in {a} if {c}.{b}]"),
                _ => format!("logger.info(\"{c} %s finished in %d ms\", {a}, {n})"),
            },
            "javascript" => match self.rng.below(5) {
                0 => format!("export function {b}({c}, options = {{}}) {{"),
                1 => format!("  const {b} = await fetch(`/api/{c}/${{id}}`);"),
                2 => format!("  // {} {c} when the {} changes", self.word(), self.word()),
                3 => format!("  return {c}.map(x => x.{b}).filter(Boolean);"),
                _ => format!("}} catch (err) {{ console.error('{c} failed', err); }}"),
            },
            "go" => match self.rng.below(4) {
                0 => format!(
                    "func (s *{}) {}(ctx context.Context) error {{",
                    capitalize(c),
                    capitalize(&b)
                ),
                1 => format!("\tif err := s.{b}.Do(ctx, {n}); err != nil {{"),
                2 => format!("\t// {c} is shared by every {}", self.word()),
                _ => format!("\treturn fmt.Errorf(\"{c}: %w\", err)"),
            },
            "rust" => match self.rng.below(4) {
                0 => format!(
                    "pub fn {a}(&self, {c}: &{}) -> Result<usize, Error> {{",
                    capitalize(&b)
                ),
                1 => format!("    let {a} = self.{c}.iter().filter(|x| x.{b}).count();"),
                2 => format!("    /// Returns the {c} of the {}.", self.word()),
                _ => format!("    Ok({a} + {n})"),
            },
            "java" => match self.rng.below(4) {
                0 => format!(
                    "    public {} get{}() {{ return this.{b}; }}",
                    capitalize(c),
                    capitalize(&b)
                ),
                1 => format!(
                    "    private final Map<String, {}> {b} = new HashMap<>();",
                    capitalize(c)
                ),
                2 => format!("    // {} {c} under load", self.word()),
                _ => format!("        log.debug(\"{c} size={{}}\", {b}.size());"),
            },
            "yaml" => match self.rng.below(4) {
                0 => format!("{c}:"),
                1 => format!("  {a}: {n}"),
                2 => format!("  {b}: \"{}-{}\"", self.word(), self.word()),
                _ => format!("  - name: {a}\n    replicas: {}", n % 8),
            },
            "json" => format!(
                "  \"{b}\": {{ \"{c}\": {n}, \"{}\": \"{}\" }},",
                self.word(),
                self.word()
            ),
            "env" => format!("{}={}", a.to_ascii_uppercase(), self.word()),
            "properties" => format!("{c}.{b}={n}"),
            "xml" => format!("  <{b} {c}=\"{n}\">{}</{b}>", self.word()),
            "shell" => match self.rng.below(3) {
                0 => format!("echo \"{c}: ${{{}}}\"", a.to_ascii_uppercase()),
                1 => format!("if [ -f \"$HOME/.{c}\" ]; then source \"$HOME/.{c}\"; fi"),
                _ => format!("{c}_dir=\"/var/lib/{}/{}\"", self.word(), self.word()),
            },
            "terraform" => match self.rng.below(3) {
                0 => format!("resource \"aws_{c}\" \"{a}\" {{"),
                1 => format!("  {a} = var.{b}"),
                _ => format!("  tags = {{ Name = \"{c}-{n}\" }}"),
            },
            "markdown" => format!(
                "The {c} {} the {} so that every {} can {} it.",
                self.word(),
                self.word(),
                self.word(),
                self.word()
            ),
            _ => {
                let integrity = self.rng.string(B64, 86);
                format!("\"node_modules/{c}-{b}\": {{ \"version\": \"{}.{}.{}\", \"integrity\": \"sha512-{integrity}==\" }},", n % 9, n % 31, n % 17)
            }
        }
    }

    /// Lines that look like secrets to a naive scanner but are not.
    fn trap(&mut self, kind: &str) -> String {
        let (a, c) = (self.ident(), self.word());
        let upper = a.to_ascii_uppercase();
        let hex40 = self.rng.string(HEX, 40);
        let uuid = self.uuid();
        let n = self.rng.below(90) + 8;
        let q = if kind == "python" || kind == "shell" {
            '\''
        } else {
            '"'
        };
        match self.rng.below(24) {
            0 => format!("password_min_length = {n}"),
            1 => format!("token_type = {q}bearer{q}"),
            2 => format!("api_key = os.environ[{q}{upper}_API_KEY{q}]"),
            3 => format!("secret: \"{{{{ .Values.{c}.secret }}}}\""),
            4 => format!("{c}_password: ${{{upper}_PASSWORD}}"),
            5 => format!("const tokenUrl = {q}https://auth.example.com/oauth/token{q};"),
            6 => format!("request_id = {q}{uuid}{q}"),
            7 => format!("commit = {q}{hex40}{q}"),
            8 => format!("// TODO: rotate the {c} token before release"),
            9 => format!("private_key_path = {q}/etc/{c}/tls.key{q}"),
            10 => format!("public_key = {q}{}{q}", self.rng.string(B64, 44)),
            11 => format!("password = {q}changeme{q}  # placeholder, set in vault"),
            12 => format!("token = process.env.{upper}_TOKEN"),
            13 => format!("monkey_{c} = {q}{}{q}", self.word()),
            14 => format!(
                "icon = {q}data:image/png;base64,{}{q}",
                self.rng.string(B64, 120)
            ),
            15 => format!("key_id = {q}{}{q}", self.rng.string(HEX, 16)),
            16 => format!("secret_name = {q}{c}-credentials{q}"),
            17 => format!(
                "if (password.length < {n}) {{ throw new Error({q}password too short{q}); }}"
            ),
            18 => "PASSWORD_HASH_ALGORITHM=argon2id".to_string(),
            19 => format!("auth_token = get_{c}_token(session)"),
            20 => format!("  password: <your-{c}-password>"),
            21 => format!("sha256 = {q}{}{q}", self.rng.string(HEX, 64)),
            22 => format!("export {upper}_SECRET_FILE=/run/secrets/{c}"),
            _ => format!("token_expiry_seconds: {}", n * 60),
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A signature example ready to plant.
struct Plantable {
    signature_id: String,
    text: String,
    /// Line offset of the secret within `text` (0-based).
    secret_line: usize,
}

fn plantables(rules: &RuleSet) -> Vec<Plantable> {
    let mut out = Vec::new();
    for signature in rules.signatures() {
        for example in signature.examples() {
            let Some(at) = example.text.find(&example.secret) else {
                continue;
            };
            out.push(Plantable {
                signature_id: signature.id().to_string(),
                secret_line: example.text[..at].matches('\n').count(),
                text: example.text.trim_end_matches('\n').to_string(),
            });
        }
    }
    out
}

/// Writes a corpus into `root` (created if needed) and returns its answer key.
pub fn generate(root: &Path, config: &CorpusConfig, rules: &RuleSet) -> io::Result<AnswerKey> {
    let mut rng = Rng::new(config.seed);
    let plantables = plantables(rules);
    // Plant every example once before repeating any, in a seeded order.
    let mut order: Vec<usize> = (0..plantables.len()).collect();
    let mut next_plant = order.len();

    let mut key = AnswerKey {
        files: 0,
        bytes: 0,
        planted: Vec::new(),
    };
    let mut until_secret = config.bytes_per_secret;
    while key.bytes < config.total_bytes {
        let (kind, ext) = *rng.pick(KINDS);
        let dir = format!("{}/{}", rng.pick(WORDS), rng.pick(WORDS));
        let rel = format!("{dir}/{}_{}.{ext}", kind, key.files);
        let file_bytes = spread_size(config.file_bytes, &mut rng);
        let mut text = String::with_capacity(file_bytes + 1024);
        let mut line = 1usize;
        while text.len() < file_bytes {
            let filler = Filler { rng: &mut rng }.line(kind);
            line += filler.matches('\n').count() + 1;
            text.push_str(&filler);
            text.push('\n');
            until_secret = until_secret.saturating_sub(filler.len() as u64 + 1);
            if until_secret == 0 && !plantables.is_empty() {
                if next_plant == order.len() {
                    shuffle(&mut order, &mut rng);
                    next_plant = 0;
                }
                let plant = &plantables[order[next_plant]];
                next_plant += 1;
                let lines = plant.text.matches('\n').count() + 1;
                key.planted.push(Planted {
                    path: rel.clone(),
                    line: line + plant.secret_line,
                    first_line: line,
                    last_line: line + lines - 1,
                    signature_id: plant.signature_id.clone(),
                });
                let _ = writeln!(text, "{}", plant.text);
                line += lines;
                until_secret = config.bytes_per_secret / 2
                    + rng.below(config.bytes_per_secret as usize) as u64;
            }
        }
        let path: PathBuf = root.join(&rel);
        fs::create_dir_all(path.parent().expect("file has a parent"))?;
        fs::File::create(&path)?.write_all(text.as_bytes())?;
        key.files += 1;
        key.bytes += text.len() as u64;
    }
    Ok(key)
}

/// A size between `median / 8` and `median * 8`, log-uniformly distributed.
fn spread_size(median: usize, rng: &mut Rng) -> usize {
    let exponent = (rng.below(6001) as f64 - 3000.0) / 1000.0; // -3.0 ..= 3.0
    ((median as f64) * exponent.exp2()) as usize
}

fn shuffle(items: &mut [usize], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// Generates filler text only (no planted secrets), for engine benchmarks over memory.
pub fn filler_text(bytes: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut blobs = Vec::new();
    let mut total = 0;
    while total < bytes {
        let (kind, _) = *rng.pick(KINDS);
        let mut text = String::new();
        while text.len() < 32 * 1024 {
            text.push_str(&Filler { rng: &mut rng }.line(kind));
            text.push('\n');
        }
        total += text.len();
        blobs.push(text);
    }
    blobs
}
