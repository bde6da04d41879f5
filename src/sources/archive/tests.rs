//! The walker on archives built here: every format, nesting, every limit, damage.

use std::io::Write;

use super::*;

/// A zip entry to write.
struct Member<'a> {
    name: &'a str,
    data: &'a [u8],
    deflate: bool,
    encrypted: bool,
    wrong_crc: bool,
}

fn member<'a>(name: &'a str, data: &'a [u8]) -> Member<'a> {
    Member {
        name,
        data,
        deflate: true,
        encrypted: false,
        wrong_crc: false,
    }
}

/// A zip file, written by hand the way the format describes it.
fn zip_of(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for m in members {
        let stored = if m.deflate {
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(m.data).unwrap();
            encoder.finish().unwrap()
        } else {
            m.data.to_vec()
        };
        let crc = crc32fast::hash(m.data) ^ u32::from(m.wrong_crc);
        let flags: u16 = if m.encrypted { 1 } else { 0 };
        let method: u16 = if m.deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        let fields = |out: &mut Vec<u8>| {
            out.extend(flags.to_le_bytes());
            out.extend(method.to_le_bytes());
            out.extend([0u8; 4]); // time, date
            out.extend(crc.to_le_bytes());
            out.extend((stored.len() as u32).to_le_bytes());
            out.extend((m.data.len() as u32).to_le_bytes());
            out.extend((m.name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes()); // extra length
        };
        out.extend(b"PK\x03\x04\x14\x00");
        fields(&mut out);
        out.extend(m.name.as_bytes());
        out.extend(&stored);
        central.extend(b"PK\x01\x02\x14\x00\x14\x00");
        fields(&mut central);
        central.extend([0u8; 10]); // comment length, disk, internal and external attributes
        central.extend(offset.to_le_bytes());
        central.extend(m.name.as_bytes());
    }
    let directory_offset = out.len() as u32;
    out.extend(&central);
    out.extend(b"PK\x05\x06\0\0\0\0");
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(directory_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let members: Vec<Member> = files.iter().map(|(n, d)| member(n, d)).collect();
    zip_of(&members)
}

fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = ::tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = ::tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// What a walk reported.
#[derive(Default, Debug)]
struct Seen {
    texts: Vec<(String, String)>,
    skipped: Vec<(String, SourceErrorKind, String)>,
}

impl MemberVisitor for Seen {
    fn text(&mut self, path: &[String], bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes).into_owned();
        self.texts.push((path.join(" > "), text));
    }

    fn skipped(&mut self, path: &[String], kind: SourceErrorKind, message: String) {
        self.skipped.push((path.join(" > "), kind, message));
    }
}

fn walk(bytes: &[u8], name: &str, limits: ArchiveLimits) -> (Seen, ExpandStats) {
    let mut seen = Seen::default();
    let stats = expand(bytes, name, &limits, &mut seen);
    (seen, stats)
}

fn texts(seen: &Seen) -> Vec<(&str, &str)> {
    seen.texts
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect()
}

#[test]
fn zip_members_stored_and_deflated_reach_the_visitor() {
    let mut stored = member("META-INF/MANIFEST.MF", b"Main-Class: App\n");
    stored.deflate = false;
    let archive = zip_of(&[
        member("BOOT-INF/", b""),
        stored,
        member("BOOT-INF/classes/application.properties", b"token=abc\n"),
        member("App.class", b"\xca\xfe\xba\xbe\0\0\0\x34"),
    ]);
    let (seen, stats) = walk(&archive, "app.jar", ArchiveLimits::default());
    assert_eq!(
        texts(&seen),
        [
            ("META-INF/MANIFEST.MF", "Main-Class: App\n"),
            ("BOOT-INF/classes/application.properties", "token=abc\n"),
        ]
    );
    assert!(seen.skipped.is_empty(), "{seen:?}");
    assert_eq!(
        stats,
        ExpandStats {
            archives: 1,
            members: 3,
            binary: 1
        }
    );
}

#[test]
fn nested_archives_name_the_whole_chain() {
    let inner = zip(&[("config.properties", b"password=x\n")]);
    let war = zip(&[("WEB-INF/lib/inner.jar", &inner)]);
    let tgz = gzip(&tar(&[("deploy/app.war", &war), ("README", b"hello\n")]));
    let (seen, stats) = walk(&tgz, "release.tgz", ArchiveLimits::default());
    assert_eq!(
        texts(&seen),
        [
            (
                "deploy/app.war > WEB-INF/lib/inner.jar > config.properties",
                "password=x\n"
            ),
            ("README", "hello\n"),
        ]
    );
    assert_eq!(stats.archives, 3);
}

#[test]
fn tar_gzip_and_zstd_are_opened() {
    let plain = tar(&[("etc/app.conf", b"key=1\n")]);
    let (seen, _) = walk(&plain, "x.tar", ArchiveLimits::default());
    assert_eq!(texts(&seen), [("etc/app.conf", "key=1\n")]);

    let (seen, _) = walk(&gzip(b"line\n"), "notes.txt.gz", ArchiveLimits::default());
    assert_eq!(texts(&seen), [("notes.txt", "line\n")]);

    let zst =
        ruzstd::encoding::compress_to_vec(&plain[..], ruzstd::encoding::CompressionLevel::Fastest);
    let (seen, _) = walk(&zst, "layer.tar.zst", ArchiveLimits::default());
    assert_eq!(texts(&seen), [("etc/app.conf", "key=1\n")]);
}

#[test]
fn utf16_members_are_transcoded() {
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend("secret=1".encode_utf16().flat_map(u16::to_le_bytes));
    let (seen, _) = walk(
        &zip(&[("win.ini", &utf16)]),
        "a.zip",
        ArchiveLimits::default(),
    );
    assert_eq!(texts(&seen), [("win.ini", "secret=1")]);
}

#[test]
fn a_zip_bomb_is_skipped_and_its_siblings_still_scanned() {
    let spaces = vec![b' '; 4 << 20];
    let bomb = zip(&[("spaces.txt", &spaces), ("ok.txt", b"fine\n")]);
    assert!(bomb.len() < 20_000, "deflate packs repeats ~1000:1");
    let (seen, _) = walk(&bomb, "bomb.zip", ArchiveLimits::default());
    assert_eq!(texts(&seen), [("ok.txt", "fine\n")]);
    let [(path, kind, message)] = &seen.skipped[..] else {
        panic!("{seen:?}")
    };
    assert_eq!(path, "spaces.txt");
    assert_eq!(*kind, SourceErrorKind::Limit);
    assert!(message.contains("compression bomb"), "{message}");
}

#[test]
fn a_gzip_bomb_is_cut_off() {
    let bomb = gzip(&vec![b' '; 4 << 20]);
    let (seen, _) = walk(&bomb, "spaces.txt.gz", ArchiveLimits::default());
    assert!(seen.texts.is_empty());
    assert_eq!(seen.skipped.len(), 1, "{seen:?}");
    assert_eq!(seen.skipped[0].1, SourceErrorKind::Limit);
    // A generous ratio lets the same file through.
    let limits = ArchiveLimits {
        max_ratio: 10_000,
        ..ArchiveLimits::default()
    };
    let (seen, _) = walk(&bomb, "spaces.txt.gz", limits);
    assert_eq!(seen.texts.len(), 1);
}

#[test]
fn archives_deeper_than_the_limit_are_reported_not_opened() {
    let level3 = zip(&[("deep.txt", b"three\n")]);
    let level2 = zip(&[("c.zip", &level3), ("two.txt", b"two\n")]);
    let level1 = zip(&[("b.zip", &level2)]);
    let limits = ArchiveLimits {
        max_depth: 2,
        ..ArchiveLimits::default()
    };
    let (seen, stats) = walk(&level1, "a.zip", limits);
    assert_eq!(texts(&seen), [("b.zip > two.txt", "two\n")]);
    let [(path, kind, message)] = &seen.skipped[..] else {
        panic!("{seen:?}")
    };
    assert_eq!(
        (path.as_str(), *kind),
        ("b.zip > c.zip", SourceErrorKind::Limit)
    );
    assert!(message.contains("--max-archive-depth"), "{message}");
    assert_eq!(stats.archives, 2);

    let (seen, _) = walk(&level1, "a.zip", ArchiveLimits::default());
    assert_eq!(seen.texts.len(), 2, "depth 3 reaches the deepest file");
    let off = ArchiveLimits {
        max_depth: 0,
        ..ArchiveLimits::default()
    };
    assert_eq!(walk(&level1, "a.zip", off).1, ExpandStats::default());
}

#[test]
fn the_total_size_limit_stops_the_whole_walk_once() {
    let chunk = vec![b'x'; 400_000];
    let inner = zip(&[("1.txt", &chunk), ("2.txt", &chunk)]);
    let outer = zip(&[("inner.zip", &inner), ("3.txt", &chunk), ("4.txt", &chunk)]);
    let limits = ArchiveLimits {
        max_total_size: 1_000_000,
        ..ArchiveLimits::default()
    };
    let (seen, _) = walk(&outer, "outer.zip", limits);
    // inner.zip (a few KB), 1.txt and 2.txt fit; 3.txt breaks the budget, and 4.txt is not
    // even tried.
    assert_eq!(seen.texts.len(), 2, "{:?}", texts(&seen));
    let [(path, kind, message)] = &seen.skipped[..] else {
        panic!("{seen:?}")
    };
    assert_eq!((path.as_str(), *kind), ("3.txt", SourceErrorKind::Limit));
    assert!(message.contains("--max-archive-size"), "{message}");

    // Stored members count as much as deflated ones.
    let stored: Vec<Member> = ["1.txt", "2.txt", "3.txt"]
        .into_iter()
        .map(|name| Member {
            deflate: false,
            ..member(name, &chunk)
        })
        .collect();
    let (seen, _) = walk(&zip_of(&stored), "stored.zip", limits);
    assert_eq!(seen.texts.len(), 2, "{:?}", texts(&seen));
    assert_eq!(seen.skipped[0].1, SourceErrorKind::Limit, "{seen:?}");
}

#[test]
fn members_over_the_size_limit_are_skipped() {
    let big = vec![b'a'; 5000];
    let limits = ArchiveLimits {
        max_member_size: 4096,
        ..ArchiveLimits::default()
    };
    let (seen, _) = walk(
        &zip(&[("big.txt", &big), ("small.txt", b"s")]),
        "a.zip",
        limits,
    );
    assert_eq!(texts(&seen), [("small.txt", "s")]);
    assert_eq!(seen.skipped[0].1, SourceErrorKind::TooLarge);
    let (seen, _) = walk(
        &tar(&[("big.txt", &big), ("small.txt", b"s")]),
        "a.tar",
        limits,
    );
    assert_eq!(texts(&seen), [("small.txt", "s")]);
    assert_eq!(seen.skipped[0].1, SourceErrorKind::TooLarge);
}

#[test]
fn a_truncated_gzip_is_reported_as_damaged() {
    let whole = gzip(&tar(&[("a.txt", &vec![b'a'; 100_000])]));
    let cut = &whole[..whole.len() / 2];
    let (seen, _) = walk(cut, "cut.tar.gz", ArchiveLimits::default());
    assert!(seen.texts.is_empty());
    let [(path, kind, message)] = &seen.skipped[..] else {
        panic!("{seen:?}")
    };
    assert_eq!((path.as_str(), *kind), ("", SourceErrorKind::Unreadable));
    assert!(message.contains("damaged"), "{message}");
}

#[test]
fn corrupt_zips_and_entries_are_reported() {
    // No central directory at all.
    let (seen, _) = walk(b"PK\x03\x04garbage", "bad.zip", ArchiveLimits::default());
    assert_eq!(seen.skipped.len(), 1);
    assert!(seen.skipped[0].2.contains("damaged zip"), "{seen:?}");

    // One entry whose data does not match its checksum; its sibling is fine.
    let mut bad = member("bad.txt", b"flipped\n");
    bad.wrong_crc = true;
    let archive = zip_of(&[bad, member("good.txt", b"good\n")]);
    let (seen, _) = walk(&archive, "a.zip", ArchiveLimits::default());
    assert_eq!(texts(&seen), [("good.txt", "good\n")]);
    assert_eq!(seen.skipped[0].0, "bad.txt");
    assert!(seen.skipped[0].2.contains("CRC-32"), "{seen:?}");

    // Bytes lost from the middle: the directory no longer lines up with the entries.
    let mut cut = zip(&[("a.txt", b"aaaa\n")]);
    cut.drain(10..20);
    let (seen, _) = walk(&cut, "cut.zip", ArchiveLimits::default());
    assert!(seen.texts.is_empty(), "{seen:?}");
    assert_eq!(seen.skipped[0].1, SourceErrorKind::Unreadable);
}

#[test]
fn encrypted_members_are_skipped_with_a_note() {
    let mut secret = member("vault.txt", b"ciphertext");
    secret.encrypted = true;
    let archive = zip_of(&[secret, member("plain.txt", b"plain\n")]);
    let (seen, _) = walk(&archive, "a.zip", ArchiveLimits::default());
    assert_eq!(texts(&seen), [("plain.txt", "plain\n")]);
    assert_eq!(
        (seen.skipped[0].0.as_str(), seen.skipped[0].1),
        ("vault.txt", SourceErrorKind::Encrypted)
    );
}

#[test]
fn data_before_a_zip_shifts_its_offsets() {
    let mut prefixed = b"#!/bin/sh\nexec java -jar \"$0\"\n".to_vec();
    prefixed.extend(zip(&[("a.txt", b"hello\n")]));
    let entries = zip::entries(&prefixed).unwrap();
    assert_eq!(entries.len(), 1);
    let data = zip::data(&prefixed, &entries[0]).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::DeflateDecoder::new(data), &mut out).unwrap();
    assert_eq!(out, b"hello\n");
}

#[test]
fn formats_are_told_by_magic_bytes() {
    assert_eq!(format_of(b"PK\x03\x04rest", "x.bin"), Some(Format::Zip));
    assert_eq!(format_of(b"PK\x05\x06", "empty.zip"), Some(Format::Zip));
    assert_eq!(format_of(&[0x1f, 0x8b, 8], "a"), Some(Format::Gzip));
    assert_eq!(
        format_of(&[0x28, 0xb5, 0x2f, 0xfd], "a"),
        Some(Format::Zstd)
    );
    let mut tar = vec![0u8; 512];
    tar[257..262].copy_from_slice(b"ustar");
    assert_eq!(format_of(&tar, "noext"), Some(Format::Tar));
    assert_eq!(format_of(&[0u8; 512], "old.tar"), Some(Format::Tar));
    assert_eq!(format_of(&[0u8; 512], "old.bin"), None);
    assert_eq!(format_of(b"plain text", "notes.zip"), None);
}

#[test]
fn labels_are_bounded_and_relative() {
    assert_eq!(label(b"./a/b.txt"), "a/b.txt");
    assert_eq!(label(b"/etc/passwd"), "etc/passwd");
    assert_eq!(label(b""), "(unnamed)");
    assert_eq!(label(b"caf\xe9"), "caf\u{fffd}");
    let long = label(&[b'x'; 2000]);
    assert_eq!(long.chars().count(), MAX_LABEL + 1);
}
