//! Embeds every `signatures/*.toml` file in the binary.
//!
//! The generated file holds `(file name, contents)` pairs in file-name order, so the built-in
//! signature set is the same on every machine and changes whenever a signature file changes.

use std::{env, fs, path::Path};

fn main() {
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

    let target = Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_signatures.rs");
    fs::write(target, out).expect("write builtin_signatures.rs");
}
