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

/// What a text field may carry of the characters that are refused elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// One line: no control character at all, no bidirectional override or isolate.
    Line,
    /// Multi-line text (`description`, `note`): TAB, LF and CR besides what a line allows.
    MultiLine,
    /// A password or secret: anything but NUL, so no passphrase a person chose is refused.
    Secret,
}

/// Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make text display
/// in an order other than the one stored, the trick behind spoofed names.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `s` holds a character that text entering the registry may not carry: NUL anywhere (no
/// store keeps it, PostgreSQL refuses it), other C0 and C1 controls, and bidirectional controls.
pub fn has_forbidden(s: &str, allowed: Allowed) -> bool {
    s.chars().any(|c| match allowed {
        Allowed::Secret => c == '\0',
        Allowed::MultiLine => (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || is_bidi_control(c),
        Allowed::Line => c.is_control() || is_bidi_control(c),
    })
}

/// The code of a field error for refused characters, stable for clients to translate.
pub const FORBIDDEN_CODE: &str = "invalid_characters";

/// What a person is told about refused characters.
pub fn forbidden_message(allowed: Allowed) -> &'static str {
    match allowed {
        Allowed::Line => {
            "must not contain control characters (such as NUL, TAB or a line break) or bidirectional overrides"
        }
        Allowed::MultiLine => {
            "must not contain control characters other than TAB and line breaks (such as NUL), or bidirectional overrides"
        }
        Allowed::Secret => "must not contain the NUL character",
    }
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
    fn control_and_bidi_characters_are_refused_as_each_kind_of_field_says() {
        for bad in ["a\0b", "a\u{7}b", "a\u{85}b", "admin\u{202E}", "x\u{2066}y", "a\tb", "a\nb"] {
            assert!(has_forbidden(bad, Allowed::Line), "{bad:?} is refused in a line");
        }
        assert!(!has_forbidden("Қазақ тілі — «адал»", Allowed::Line));
        assert!(!has_forbidden("line one\r\nline\ttwo", Allowed::MultiLine));
        assert!(has_forbidden("line\0", Allowed::MultiLine));
        assert!(has_forbidden("x\u{202D}", Allowed::MultiLine));
        assert!(!has_forbidden("pass\tword\u{202E}\u{7}", Allowed::Secret));
        assert!(has_forbidden("pass\0word", Allowed::Secret));
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
