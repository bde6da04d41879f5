//! `keysift image`: resolve the inputs, scan, report.

use std::{
    fs,
    io::{self, Write},
    path::PathBuf,
};

use anyhow::Context;
use keysift::{
    scan::{
        image::{scan_images, ImageScanOptions},
        RunOptions,
    },
    sources::image::layer::LayerLimits,
};

use super::{
    args::ImageArgs,
    scan_cmd::{archive_limits, build_scanner, Report},
    Outcome,
};

/// `keysift image IMAGE...`
pub fn image(args: ImageArgs) -> anyhow::Result<Outcome> {
    let mut spooled = None;
    let mut inputs = Vec::new();
    for input in &args.inputs {
        if input.as_os_str() == "-" {
            let path = spool_stdin()?;
            inputs.push(path.clone());
            spooled = Some(path);
        } else if !input.exists() && looks_like_reference(&input.to_string_lossy()) {
            anyhow::bail!(
                "{}: no such file; pulling images from a registry is not supported yet \
                 (save it with `docker save` or `skopeo copy ... oci-archive:...` and scan the archive)",
                input.display()
            );
        } else {
            inputs.push(input.clone());
        }
    }
    let scanner = build_scanner(&args.scan)?;
    let options = ImageScanOptions {
        platform: args.platform.clone(),
        limits: LayerLimits {
            max_file: args.max_file_size,
            max_layer: args.max_layer_size,
        },
        archives: archive_limits(&args.archives, args.max_file_size),
        run: RunOptions {
            threads: args.scan.threads,
        },
    };
    let mut report = Report::open(&args.scan)?;
    let (summary, notes) = scan_images(&inputs, &scanner, &options, |event| report.event(event));
    if let Some(path) = spooled {
        let _ = fs::remove_file(path);
    }
    if !args.scan.quiet {
        for note in &notes {
            eprintln!("keysift: note: {note}");
        }
    }
    report.finish(&summary)
}

/// `registry.example.com/team/app:1.2`, `app@sha256:...`: not a path.
fn looks_like_reference(input: &str) -> bool {
    input.contains(':') || input.contains('@')
}

/// Copies a tarball from stdin to a private temporary file: an archive needs random access
/// to reach its layers. The file is removed after the scan.
fn spool_stdin() -> anyhow::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("keysift-stdin-{}.tar", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    io::copy(&mut io::stdin().lock(), &mut file).context("cannot read the image from stdin")?;
    file.flush()?;
    Ok(path)
}
