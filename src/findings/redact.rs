//! Redaction of secrets for display.

/// Characters of a long secret left visible: enough to recognise a provider prefix (`ghp_`,
/// `AKIA`, `xoxb`), not enough to matter to an attacker.
const VISIBLE: usize = 4;
/// Secrets shorter than this show nothing at all.
const SHORTEST_PARTLY_SHOWN: usize = 16;

/// `ghp_…` style redaction: the first few characters of a long secret, then asterisks.
pub fn redact(secret: &str) -> String {
    let chars = secret.chars().count();
    if chars < SHORTEST_PARTLY_SHOWN {
        return "*****".to_string();
    }
    let visible: String = secret.chars().take(VISIBLE).collect();
    format!("{visible}*****")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn long_secrets_keep_a_prefix_short_ones_nothing() {
        assert_eq!(
            redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "ghp_*****"
        );
        assert_eq!(redact("hunter2hunter2"), "*****");
        assert_eq!(redact(""), "*****");
    }
}
