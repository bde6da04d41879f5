//! `keysift image` on image archives built by the tests: `docker save` tarballs (classic and
//! OCI-style), OCI layout directories and tars, gzip, zstd and plain layers, whiteouts, configs,
//! damaged layers and stdin.

mod common;

use std::{fs, path::Path};

use common::{
    archives,
    images::{archive, config, docker_save, gzip, layer_tar, oci_layout, sha256, zstd},
    run, run_with_stdin, Tree, GITHUB_TOKEN, GITHUB_TOKEN_2,
};
use serde_json::{json, Value};

/// Writes archive members as files under `dir` (an OCI layout directory).
fn write_layout(dir: &Path, members: &[(String, Vec<u8>)]) {
    for (name, bytes) in members {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

fn scan(args: &[&str]) -> (common::Run, Value) {
    let mut all = vec!["image", "--format", "json"];
    all.extend_from_slice(args);
    let result = run(&all);
    let json: Value = serde_json::from_str(&result.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", result.stdout, result.stderr));
    (result, json)
}

fn findings(json: &Value) -> Vec<&Value> {
    json["findings"].as_array().unwrap().iter().collect()
}

#[test]
fn a_secret_deleted_by_a_later_layer_is_found_and_marked_still_shipped() {
    let tree = Tree::new();
    let tarball = tree.join("app.tar");
    let base = gzip(&layer_tar(&[
        ("app/.env", &format!("GITHUB_TOKEN={GITHUB_TOKEN}\n")),
        ("app/main.py", "print('hi')\n"),
    ]));
    let cleanup = layer_tar(&[("app/.wh..env", "")]);
    docker_save(
        &tarball,
        "myapp:1.2",
        config(&[&format!("DEPLOY_TOKEN={GITHUB_TOKEN_2}"), "PATH=/usr/bin"]),
        vec![base, cleanup],
    );

    let (result, json) = scan(&[tarball.to_str().unwrap()]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let found = findings(&json);
    assert_eq!(found.len(), 2, "{found:?}");
    let file = found.iter().find(|f| f["path"] == "/app/.env").unwrap();
    assert_eq!(file["origin"], "image");
    assert_eq!(file["image"]["image"], "myapp:1.2");
    assert_eq!(file["image"]["layer"]["index"], 0);
    assert_eq!(file["image"]["status"], "deleted");
    assert_eq!(file["image"]["by_layer"], 1);
    assert_eq!(file["line"], 1);
    let config_finding = found.iter().find(|f| f["path"] == "config.Env[0]").unwrap();
    assert_eq!(config_finding["signature_id"], "github.pat.classic");

    let human = run(&["image", tarball.to_str().unwrap(), "--color", "never"]);
    assert!(
        human
            .stdout
            .contains("deleted in layer 1, still shipped in layer 0"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains(GITHUB_TOKEN), "redacted");
}

#[test]
fn oci_layouts_with_zstd_layers_several_platforms_and_shared_layers() {
    let tree = Tree::new();
    let shared = zstd(&layer_tar(&[(
        "etc/app/creds.yml",
        &format!("token: {GITHUB_TOKEN}\n"),
    )]));
    let amd = gzip(&layer_tar(&[("bin/amd.txt", "amd64\n")]));
    let arm = layer_tar(&[("bin/arm.txt", &format!("KEY={GITHUB_TOKEN_2}\n"))]);
    let members = oci_layout(&[
        (
            "1.0-amd64",
            "linux/amd64",
            config(&[]),
            vec![
                (
                    shared.clone(),
                    "application/vnd.oci.image.layer.v1.tar+zstd",
                ),
                (amd, "application/vnd.oci.image.layer.v1.tar+gzip"),
            ],
        ),
        (
            "1.0-arm64",
            "linux/arm64",
            config(&[]),
            vec![
                (shared, "application/vnd.oci.image.layer.v1.tar+zstd"),
                (arm, "application/vnd.oci.image.layer.v1.tar"),
            ],
        ),
    ]);
    // As a directory...
    let dir = tree.join("layout");
    write_layout(&dir, &members);
    let (result, json) = scan(&[dir.to_str().unwrap()]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let found = findings(&json);
    // The shared layer is read once but reported in both images; the arm64 layer once.
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(json["summary"]["blobs_scanned"], 3);
    assert!(found.iter().all(|f| f["image"]["status"] == "visible"));

    // ...and as a tar, restricted to one platform.
    let tarball = tree.join("image.oci.tar");
    archive(&tarball, &members);
    let (_, json) = scan(&[tarball.to_str().unwrap(), "--platform", "linux/arm64"]);
    let found = findings(&json);
    assert_eq!(found.len(), 2);
    assert!(found
        .iter()
        .all(|f| f["image"]["platform"] == "linux/arm64"));
}

#[test]
fn a_damaged_layer_is_reported_and_the_other_layers_still_scanned() {
    let tree = Tree::new();
    let tarball = tree.join("broken.tar");
    let good = gzip(&layer_tar(&[("ok/.env", &format!("T={GITHUB_TOKEN}\n"))]));
    let mut truncated = gzip(&layer_tar(&[("big.txt", &"x".repeat(100_000))]));
    truncated.truncate(truncated.len() / 2);
    docker_save(&tarball, "broken:1", config(&[]), vec![good, truncated]);

    let (result, json) = scan(&[tarball.to_str().unwrap()]);
    assert_eq!(result.code, 2, "errors outrank findings");
    assert!(result.stderr.contains("damaged layer"), "{}", result.stderr);
    assert_eq!(findings(&json).len(), 1);

    let not_an_image = tree.write("plain.tar.txt", "not a tar at all");
    let result = run(&["image", not_an_image.to_str().unwrap()]);
    assert_eq!(result.code, 2);
}

#[test]
fn compression_bombs_and_huge_files_are_cut_off() {
    let tree = Tree::new();
    let tarball = tree.join("bomb.tar");
    let zeros = "\0".repeat(4 << 20);
    let layer = gzip(&layer_tar(&[
        ("small.env", &format!("T={GITHUB_TOKEN}\n")),
        ("zeros.bin", &zeros),
        ("after.env", &format!("U={GITHUB_TOKEN_2}\n")),
    ]));
    docker_save(&tarball, "bomb:1", config(&[]), vec![layer]);

    let result = run(&["image", tarball.to_str().unwrap(), "--max-layer-size", "1M"]);
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(
        result.stderr.contains("--max-layer-size"),
        "{}",
        result.stderr
    );
    let result = run(&["image", tarball.to_str().unwrap(), "--max-file-size", "1M"]);
    assert_eq!(result.code, 2);
    assert!(result.stderr.contains("zeros.bin"), "{}", result.stderr);
    assert!(
        result.stdout.contains("after.env"),
        "files after the skipped one are scanned"
    );
}

#[test]
fn a_tarball_on_stdin_is_scanned() {
    let tree = Tree::new();
    let tarball = tree.join("stdin.tar");
    let layer = layer_tar(&[("x.env", &format!("T={GITHUB_TOKEN}\n"))]);
    docker_save(&tarball, "piped:1", config(&[]), vec![layer]);
    let bytes = fs::read(&tarball).unwrap();
    let result = run_with_stdin(&["image", "-", "--format", "jsonl"], &bytes);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(result.stdout.contains("piped:1"));

    // Not a file, so a registry reference: nothing listens there, which is an error naming it.
    let missing = run(&["image", "--insecure", "127.0.0.1:9/team/app:1.2"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("127.0.0.1:9/team/app"),
        "{}",
        missing.stderr
    );
    let neither = run(&["image", "./no/Such/File.tar"]);
    assert_eq!(neither.code, 2);
    assert!(
        neither.stderr.contains("no such file"),
        "{}",
        neither.stderr
    );
}

/// A layer tar with arbitrary entry types, for hostile or unusual layers.
fn raw_layer(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, kind, contents) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        if *kind == tar::EntryType::Symlink {
            header.set_size(0);
            header.set_link_name(contents).unwrap();
            header.set_cksum();
            builder.append_data(&mut header, path, &[][..]).unwrap();
        } else {
            header.set_size(contents.len() as u64);
            // `append_data` refuses `..` in names; a hostile archive has them anyway.
            let name = header.as_old_mut();
            name.name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, contents.as_bytes()).unwrap();
        }
    }
    builder.into_inner().unwrap()
}

#[test]
fn layers_carry_their_build_step_and_repeated_files_are_scanned_once() {
    let tree = Tree::new();
    let tarball = tree.join("steps.tar");
    let secret = format!("T={GITHUB_TOKEN}\n");
    let first = layer_tar(&[("app/a.env", &secret)]);
    let second = layer_tar(&[("app/b.env", &secret), ("app/c.txt", "hello\n")]);
    let config_json = serde_json::to_vec(&json!({
        "config": { "Env": [] },
        "history": [
            { "created_by": "COPY a.env /app/" },
            { "created_by": "ENV X=1", "empty_layer": true },
            { "created_by": "RUN echo b > /app/b.env" },
        ],
    }))
    .unwrap();
    docker_save(&tarball, "steps:1", config_json, vec![first, second]);
    // One thread: two threads reading both layers at once may both scan the shared content.
    let (_, json) = scan(&[tarball.to_str().unwrap(), "-j", "1"]);
    let found = findings(&json);
    assert_eq!(found.len(), 2);
    let b = found.iter().find(|f| f["path"] == "/app/b.env").unwrap();
    assert_eq!(b["image"]["layer"]["index"], 1);
    assert_eq!(b["image"]["layer"]["created_by"], "RUN echo b > /app/b.env");
    // The same content at two paths: scanned once, reported at both.
    assert_eq!(json["summary"]["blobs_scanned"], 2);
    assert_eq!(json["summary"]["duplicates"], 1);
}

#[test]
fn opaque_directories_hostile_names_links_and_devices_do_not_derail_the_scan() {
    let tree = Tree::new();
    let tarball = tree.join("odd.tar");
    let secret = format!("T={GITHUB_TOKEN}\n");
    let base = raw_layer(&[
        ("conf/old.env", tar::EntryType::Regular, &secret),
        ("../../etc/escape.env", tar::EntryType::Regular, &secret),
        ("/abs/path.env", tar::EntryType::Regular, &secret),
        ("link.env", tar::EntryType::Symlink, "/etc/shadow"),
        ("dev/null", tar::EntryType::Char, ""),
    ]);
    let hide = raw_layer(&[("conf/.wh..wh..opq", tar::EntryType::Regular, "")]);
    docker_save(&tarball, "odd:1", config(&[]), vec![base, hide]);
    let (result, json) = scan(&[tarball.to_str().unwrap()]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let found = findings(&json);
    let old = found.iter().find(|f| f["path"] == "/conf/old.env").unwrap();
    assert_eq!(
        old["image"]["status"], "deleted",
        "hidden by an opaque directory"
    );
    assert!(found.iter().any(|f| f["path"] == "/../../etc/escape.env"));
    assert!(found.iter().any(|f| f["path"] == "/abs/path.env"));
    assert_eq!(found.len(), 3, "links and devices are not read");
}

#[test]
fn a_layer_whose_content_does_not_match_its_digest_is_an_error() {
    let tree = Tree::new();
    let layer = gzip(&layer_tar(&[("x.env", &format!("T={GITHUB_TOKEN}\n"))]));
    let members = oci_layout(&[(
        "tampered",
        "linux/amd64",
        config(&[]),
        vec![(layer.clone(), "application/vnd.oci.image.layer.v1.tar+gzip")],
    )]);
    let dir = tree.join("layout");
    write_layout(&dir, &members);
    let (result, json) = scan(&[dir.to_str().unwrap()]);
    assert_eq!(
        result.code, 1,
        "an intact layout verifies: {}",
        result.stderr
    );
    assert_eq!(findings(&json).len(), 1);

    // Replace the layer's content with another valid layer under the same digest.
    let other = gzip(&layer_tar(&[("y.env", &format!("U={GITHUB_TOKEN_2}\n"))]));
    let blob = dir.join(format!("blobs/sha256/{}", &sha256(&layer)[7..]));
    fs::write(&blob, other).unwrap();
    let (result, _) = scan(&[dir.to_str().unwrap()]);
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("digest mismatch"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains(&sha256(&layer)),
        "names the blob: {}",
        result.stderr
    );
}

#[test]
fn sparse_files_are_read_within_the_size_limit_and_an_enormous_one_is_skipped() {
    let tree = Tree::new();
    // Real sparse files on disk, archived as GNU sparse entries.
    let huge = tree.join("huge.img");
    let file = fs::File::create(&huge).unwrap();
    file.set_len(64 << 30).unwrap();
    drop(file);
    let small = tree.write("small.env", format!("T={GITHUB_TOKEN}\n"));
    fs::OpenOptions::new()
        .write(true)
        .open(&small)
        .unwrap()
        .set_len(64 << 10)
        .unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    builder.sparse(true);
    builder
        .append_path_with_name(&huge, "var/huge.img")
        .unwrap();
    builder
        .append_path_with_name(&small, "app/small.env")
        .unwrap();
    let after = tree.write("after.env", format!("U={GITHUB_TOKEN_2}\n"));
    builder
        .append_path_with_name(&after, "app/after.env")
        .unwrap();
    let layer = builder.into_inner().unwrap();
    assert!(layer.len() < 1 << 20, "the holes are not in the archive");
    let tarball = tree.join("sparse.tar");
    docker_save(&tarball, "sparse:1", config(&[]), vec![layer]);

    let (result, json) = scan(&[tarball.to_str().unwrap()]);
    assert_eq!(
        result.code, 2,
        "the skipped file makes the exit code say so"
    );
    assert!(
        result.stderr.contains("var/huge.img") && result.stderr.contains("--max-file-size"),
        "{}",
        result.stderr
    );
    let paths: Vec<&str> = findings(&json)
        .iter()
        .map(|f| f["image"]["path"].as_str().unwrap())
        .collect();
    // The small sparse file is text followed by a hole of zeros: binary by content, skipped
    // by design; the file after the enormous one is still scanned.
    assert_eq!(paths, ["app/after.env"]);
}

#[test]
fn a_manifest_naming_a_missing_layer_is_an_error_and_other_images_are_still_scanned() {
    let tree = Tree::new();
    let good = tree.join("good.tar");
    docker_save(
        &good,
        "good:1",
        config(&[]),
        vec![layer_tar(&[("x.env", &format!("T={GITHUB_TOKEN}\n"))])],
    );
    let layer = gzip(&layer_tar(&[("y.env", &format!("U={GITHUB_TOKEN_2}\n"))]));
    let mut members = oci_layout(&[(
        "holes:1",
        "linux/amd64",
        config(&[]),
        vec![
            (layer, "application/vnd.oci.image.layer.v1.tar+gzip"),
            (
                b"never stored".to_vec(),
                "application/vnd.oci.image.layer.v1.tar",
            ),
        ],
    )]);
    let missing = format!("blobs/sha256/{}", &sha256(b"never stored")[7..]);
    members.retain(|(name, _)| *name != missing);
    let holes = tree.join("holes.oci.tar");
    archive(&holes, &members);

    let (result, json) = scan(&[holes.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains(&missing) || result.stderr.contains(&missing[13..]),
        "the error names the missing blob: {}",
        result.stderr
    );
    let images: Vec<&str> = findings(&json)
        .iter()
        .map(|f| f["image"]["image"].as_str().unwrap())
        .collect();
    assert!(
        images.contains(&"holes:1") && images.contains(&"good:1"),
        "{images:?}"
    );
}

#[test]
fn a_secret_inside_a_jar_inside_a_layer_keeps_image_layer_and_member_path() {
    let tree = Tree::new();
    let tarball = tree.join("spring.tar");
    let properties = format!("github.token={GITHUB_TOKEN}\n");
    let jar = archives::zip(&[
        ("BOOT-INF/classes/App.class", b"\xca\xfe\xba\xbe\0\0\0\x41"),
        (
            "BOOT-INF/classes/application.properties",
            properties.as_bytes(),
        ),
    ]);
    let app = gzip(&archives::tar(&[
        ("app/app.jar", &jar),
        ("app/bomb.zip", &archives::bomb()),
    ]));
    let cleanup = layer_tar(&[("app/.wh.bomb.zip", "")]);
    docker_save(&tarball, "spring:3", config(&[]), vec![app, cleanup]);

    let (result, json) = scan(&[tarball.to_str().unwrap()]);
    assert_eq!(result.code, 2, "the bomb is reported: {}", result.stderr);
    let found = findings(&json);
    assert_eq!(found.len(), 1, "{found:?}");
    let finding = found[0];
    assert_eq!(
        finding["path"],
        "/app/app.jar!/BOOT-INF/classes/application.properties"
    );
    assert_eq!(
        finding["archive_members"],
        json!(["BOOT-INF/classes/application.properties"])
    );
    assert_eq!(finding["origin"], "image");
    assert_eq!(finding["image"]["image"], "spring:3");
    assert_eq!(finding["image"]["layer"]["index"], 0);
    assert_eq!(finding["image"]["path"], "app/app.jar");
    assert_eq!(finding["image"]["status"], "visible");

    let error = &json["errors"][0];
    let input = error["input"].as_str().unwrap();
    assert!(
        input.contains("spring.tar layer ") && input.ends_with(": /app/bomb.zip!/spaces.txt"),
        "the error names the image archive, the layer and the member: {input}"
    );
    assert_eq!(error["kind"], "limit");

    let human = run(&["image", tarball.to_str().unwrap(), "--color", "never"]);
    assert!(
        human
            .stdout
            .contains("spring:3 layer 0: /app/app.jar!/BOOT-INF/classes/application.properties"),
        "{}",
        human.stdout
    );
    let off = run(&["image", tarball.to_str().unwrap(), "--no-archives"]);
    assert_eq!(off.code, 0, "{}", off.stdout);
}
