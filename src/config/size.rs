//! Sizes as people write them (`512K`, `100M`, `2G`), for flags and configuration alike.

/// `4096`, `512K`, `100M`, `2G`, `1GiB`: binary multiples.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let trimmed = s.trim();
    let lower = trimmed.to_ascii_lowercase();
    let number_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(number_end);
    let value: u64 = number.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let multiplier: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(format!("invalid size {s:?} (use a number with K, M or G)")),
    };
    value
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// A size in a configuration file: a number of bytes or a string such as `"100M"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl<'de> serde::Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bytes(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Bytes(n) => Ok(Size(n)),
            Raw::Text(text) => parse_size(&text)
                .map(Size)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("10MB"), Ok(10 << 20));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("10X").is_err());
        assert!(parse_size("99999999999999999999T").is_err());
    }
}
