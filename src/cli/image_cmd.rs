//! `keysift image`: resolve the inputs, scan, report.

use std::{
    fs,
    io::{self, Write},
    path::PathBuf,
};

use anyhow::Context;
use keysift::{
    report::escape_control,
    scan::image::{scan_images, ImageInput, ImageScanOptions},
    sources::image::{
        layer::LayerLimits,
        registry::{Reference, RegistryOptions},
    },
};

use super::{
    args::ImageArgs,
    project::{ConfigRequest, Root},
    scan_cmd::{archive_limits, build_scanner, Report},
    Outcome,
};

/// `keysift image IMAGE...`
pub fn image(mut args: ImageArgs, config: &ConfigRequest) -> anyhow::Result<Outcome> {
    let project = config.load(Root::Dir(Some(std::path::Path::new("."))), args.scan.quiet)?;
    if let Some(project) = &project {
        let limits = project.limits();
        config.set(
            "max_file_size",
            &mut args.max_file_size,
            limits.max_file_size,
        );
        config.set(
            "max_layer_size",
            &mut args.max_layer_size,
            limits.max_layer_size,
        );
    }
    config.apply_archives(project.as_deref(), &mut args.archives);
    config.apply(project, &mut args.scan);
    let mut spooled = None;
    let mut inputs = Vec::new();
    for input in &args.inputs {
        if input.as_os_str() == "-" {
            let path = spool_stdin()?;
            inputs.push(ImageInput::Archive(path.clone()));
            spooled = Some(path);
        } else if input.exists() {
            inputs.push(ImageInput::Archive(input.clone()));
        } else {
            let text = input.to_string_lossy();
            let reference = Reference::parse(&text)
                .map_err(|why| anyhow::anyhow!("{text}: no such file or directory, and {why}"))?;
            inputs.push(ImageInput::Registry(reference));
        }
    }
    let scanner = build_scanner(&args.scan)?;
    let options = ImageScanOptions {
        platform: args.platform.clone(),
        registry: RegistryOptions {
            insecure: args.insecure,
        },
        limits: LayerLimits {
            max_file: args.max_file_size,
            max_layer: args.max_layer_size,
        },
        archives: archive_limits(&args.archives, args.max_file_size),
        run: args.scan.run_options(),
    };
    let mut report = Report::open(&args.scan, &scanner)?;
    let (summary, notes) = scan_images(&inputs, &scanner, &options, |event| report.event(event));
    if let Some(path) = spooled {
        let _ = fs::remove_file(path);
    }
    if !args.scan.quiet {
        for note in &notes {
            eprintln!("keysift: note: {}", escape_control(note));
        }
    }
    report.finish(&summary)
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
