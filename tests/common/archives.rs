//! Archives built in memory for the tests: zip (written by hand, deflated), tar and gzip.

use std::io::Write;

/// A zip of `(name, bytes)` members, each deflated.
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        let deflated = encoder.finish().unwrap();
        let offset = out.len() as u32;
        // Flags, method (8: deflate), time and date, CRC-32, sizes, name and extra lengths.
        let mut fields = vec![0, 0, 8, 0, 0, 0, 0, 0];
        fields.extend(crc32fast::hash(data).to_le_bytes());
        fields.extend((deflated.len() as u32).to_le_bytes());
        fields.extend((data.len() as u32).to_le_bytes());
        fields.extend((name.len() as u16).to_le_bytes());
        fields.extend([0, 0]);
        out.extend(b"PK\x03\x04\x14\x00");
        out.extend(&fields);
        out.extend(name.as_bytes());
        out.extend(&deflated);
        central.extend(b"PK\x01\x02\x14\x00\x14\x00");
        central.extend(&fields);
        // Comment length, disk, internal and external attributes, then the local offset.
        central.extend([0u8; 10]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let directory_offset = out.len() as u32;
    out.extend(&central);
    out.extend(b"PK\x05\x06\0\0\0\0");
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(directory_offset.to_le_bytes());
    out.extend([0, 0]);
    out
}

/// A tar of `(name, bytes)` regular files.
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// `bytes`, gzipped.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A zip bomb in miniature: 4 MiB of spaces deflate to a few KiB, far past a 200:1 ratio.
pub fn bomb() -> Vec<u8> {
    zip(&[("spaces.txt", &vec![b' '; 4 << 20])])
}
