//! Text as the registry keeps it: trimmed and in Unicode NFC, and a folded form for searching
//! that is case-insensitive for every script (SQLite folds ASCII only; PostgreSQL's folding
//! depends on the server's locale), so search behaves the same on both stores.

use unicode_normalization::UnicodeNormalization;

/// Trimmed, NFC-normalised text.
pub fn clean(s: &str) -> String {
    s.trim().nfc().collect()
}

/// The search form: NFC then Unicode lowercase.
pub fn fold(s: &str) -> String {
    s.nfc().collect::<String>().to_lowercase()
}

/// A `LIKE` pattern matching `query` anywhere, with `%`, `_` and `\` taken literally (use with
/// `ESCAPE '\'`).
pub fn contains_pattern(query: &str) -> String {
    let mut p = String::from("%");
    for c in fold(query).chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_lowers_kazakh_and_russian_letters() {
        assert_eq!(fold("ӘДІЛДІК ҒҚҢӨҰҮҺ"), "әділдік ғқңөұүһ");
        assert_eq!(fold("Честность"), "честность");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
