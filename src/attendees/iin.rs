//! The IIN (ЖСН / ИИН), Kazakhstan's 12-digit individual identification number: its checks, and
//! the keyed hash that is all the registry keeps of it (plus the last two digits, so a person
//! can tell two namesakes apart without the number being recoverable).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// A checked IIN. Its `Debug` shows only the last two digits, so the number cannot reach a log
/// line through a `{:?}`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Iin([u8; 12]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IinError {
    /// Not exactly 12 characters.
    Length,
    /// A character that is not an ASCII digit.
    NotDigits,
    /// Digits 1–6 are not a calendar date.
    Date,
    /// Digit 7 is not 1–6.
    Century,
    /// The 12th digit is not the control digit of the first 11, or none can be computed.
    Control,
}

impl IinError {
    pub fn code(self) -> &'static str {
        match self {
            IinError::Length => "length",
            IinError::NotDigits => "digits",
            IinError::Date => "birth_date",
            IinError::Century => "century",
            IinError::Control => "control_digit",
        }
    }

    /// What is wrong, never repeating the number itself.
    pub fn message(self) -> &'static str {
        match self {
            IinError::Length => "an IIN is exactly 12 digits",
            IinError::NotDigits => "an IIN is made of digits only",
            IinError::Date => "digits 1–6 of an IIN must be a valid birth date (YYMMDD)",
            IinError::Century => "digit 7 of an IIN must be 1 to 6 (century and gender)",
            IinError::Control => "the IIN's control digit does not match; check it for a typo",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

const PASS_1: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const PASS_2: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The control digit of the first 11 digits, or `None` when both passes give 10 (no valid IIN
/// starts with those digits).
pub fn control_digit(first11: &[u8]) -> Option<u8> {
    let pass =
        |weights: &[u32; 11]| -> u32 { first11.iter().zip(weights).map(|(d, w)| u32::from(*d) * w).sum::<u32>() % 11 };
    match pass(&PASS_1) {
        10 => match pass(&PASS_2) {
            10 => None,
            c => Some(c as u8),
        },
        c => Some(c as u8),
    }
}

fn century(digit: u8) -> Option<i32> {
    match digit {
        1 | 2 => Some(1800),
        3 | 4 => Some(1900),
        5 | 6 => Some(2000),
        _ => None,
    }
}

impl Iin {
    /// Checks a candidate IIN (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Iin, IinError> {
        let text = text.trim();
        if text.chars().count() != 12 {
            return Err(IinError::Length);
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IinError::NotDigits);
        }
        let mut d = [0u8; 12];
        for (slot, b) in d.iter_mut().zip(text.bytes()) {
            *slot = b - b'0';
        }
        let base = century(d[6]).ok_or(IinError::Century)?;
        let two = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
        NaiveDate::from_ymd_opt(base + two(0) as i32, two(2), two(4)).ok_or(IinError::Date)?;
        match control_digit(&d[..11]) {
            Some(c) if c == d[11] => Ok(Iin(d)),
            _ => Err(IinError::Control),
        }
    }

    pub fn birth_date(&self) -> NaiveDate {
        let d = &self.0;
        let two = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
        let base = century(d[6]).unwrap_or(1900);
        NaiveDate::from_ymd_opt(base + two(0) as i32, two(2), two(4)).unwrap_or_default()
    }

    pub fn birth_year(&self) -> i32 {
        self.birth_date().year()
    }

    pub fn sex(&self) -> Sex {
        if self.0[6] % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// The last two digits, as responses show them.
    pub fn last2(&self) -> String {
        format!("{}{}", self.0[10], self.0[11])
    }

    fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// Hex HMAC-SHA256 of the IIN under the registry's `iin_key`: equal for the same person
    /// everywhere, and not reversible without the key (an unkeyed hash of a number with so
    /// little entropy would be).
    pub fn hash(&self, key: &Secret) -> String {
        keyed_digest(key, self.digits().as_bytes())
    }
}

impl fmt::Debug for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iin(**********{})", self.last2())
    }
}

/// Hex HMAC-SHA256 of `bytes` under `key`.
pub fn keyed_digest(key: &Secret, bytes: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).expect("HMAC takes any key length");
    mac.update(bytes);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds an IIN from its parts, computing the control digit with the published two-pass
    /// rule written out here on its own, so the test does not just repeat the code under test.
    /// `None` when no control digit exists for these 11 digits.
    fn generate(date: NaiveDate, sex_century_digit: u8, serial: u32) -> Option<String> {
        let first11 =
            format!("{:02}{:02}{:02}{}{:04}", date.year() % 100, date.month(), date.day(), sex_century_digit, serial);
        let digits: Vec<u32> = first11.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let mut sum = 0;
        for (i, d) in digits.iter().enumerate() {
            sum += d * (i as u32 + 1);
        }
        let mut control = sum % 11;
        if control == 10 {
            let weights = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];
            control = digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11;
            if control == 10 {
                return None;
            }
        }
        Some(format!("{first11}{control}"))
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Walks serials for `(date, digit)` until one whose first pass gives 10 is found, and
    /// returns (an IIN that needs pass 2, 11 digits that have no control digit at all).
    fn pass_two_cases() -> (String, String) {
        let mut needs_pass_two = None;
        let mut impossible = None;
        for serial in 0..10_000u32 {
            let first11 = format!("900315{}{:04}", 3, serial);
            let digits: Vec<u8> = first11.bytes().map(|b| b - b'0').collect();
            let pass1: u32 = digits.iter().enumerate().map(|(i, d)| u32::from(*d) * (i as u32 + 1)).sum::<u32>() % 11;
            if pass1 != 10 {
                continue;
            }
            match generate(date(1990, 3, 15), 3, serial) {
                Some(iin) if needs_pass_two.is_none() => needs_pass_two = Some(iin),
                None if impossible.is_none() => impossible = Some(first11),
                _ => {}
            }
            if needs_pass_two.is_some() && impossible.is_some() {
                break;
            }
        }
        (needs_pass_two.unwrap(), impossible.unwrap())
    }

    #[test]
    fn generated_iins_are_valid_and_carry_birth_date_and_sex() {
        let cases = [
            (date(1899, 12, 31), 1, Sex::Male),
            (date(1850, 6, 1), 2, Sex::Female),
            (date(1985, 1, 1), 3, Sex::Male),
            (date(1972, 2, 29), 4, Sex::Female),
            (date(2000, 2, 29), 5, Sex::Male),
            (date(2012, 11, 30), 6, Sex::Female),
        ];
        let mut checked = 0;
        for (born, digit, sex) in cases {
            for serial in (0..10_000).step_by(97) {
                let Some(text) = generate(born, digit, serial) else { continue };
                let iin = Iin::parse(&text).unwrap_or_else(|e| panic!("generated {text} refused: {e:?}"));
                assert_eq!(iin.birth_date(), born);
                assert_eq!(iin.sex(), sex);
                assert_eq!(iin.last2(), text[10..]);
                checked += 1;
            }
        }
        assert!(checked > 500, "only {checked} generated");
    }

    #[test]
    fn the_second_pass_decides_when_the_first_gives_ten() {
        let (needs_pass_two, impossible) = pass_two_cases();
        assert!(Iin::parse(&needs_pass_two).is_ok());
        for last in 0..10 {
            assert_eq!(Iin::parse(&format!("{impossible}{last}")), Err(IinError::Control));
        }
    }

    #[test]
    fn a_wrong_control_digit_is_refused() {
        let good = generate(date(1985, 1, 1), 3, 1234).or_else(|| generate(date(1985, 1, 1), 3, 1235)).unwrap();
        let last = good.as_bytes()[11] - b'0';
        let wrong = format!("{}{}", &good[..11], (last + 1) % 10);
        assert_eq!(Iin::parse(&wrong), Err(IinError::Control));
    }

    #[test]
    fn a_bad_birth_date_is_refused() {
        // The control digit is right for these digits, so only the date is wrong.
        for (yymmdd, digit) in [("850230", 3), ("851301", 3), ("850100", 3), ("010229", 5)] {
            let first11 = format!("{yymmdd}{digit}0042");
            let digits: Vec<u8> = first11.bytes().map(|b| b - b'0').collect();
            let Some(c) = control_digit(&digits) else { continue };
            assert_eq!(Iin::parse(&format!("{first11}{c}")), Err(IinError::Date), "{yymmdd}");
        }
    }

    #[test]
    fn a_bad_century_digit_is_refused() {
        for digit in [0u8, 7, 8, 9] {
            let first11 = format!("850101{digit}0042");
            let digits: Vec<u8> = first11.bytes().map(|b| b - b'0').collect();
            let c = control_digit(&digits).unwrap_or(0);
            assert_eq!(Iin::parse(&format!("{first11}{c}")), Err(IinError::Century), "digit {digit}");
        }
    }

    #[test]
    fn wrong_length_and_non_digits_are_refused() {
        let good = generate(date(1990, 5, 17), 4, 2024).or_else(|| generate(date(1990, 5, 17), 4, 2025)).unwrap();
        assert_eq!(Iin::parse(&good[..11]), Err(IinError::Length));
        assert_eq!(Iin::parse(&format!("{good}0")), Err(IinError::Length));
        assert_eq!(Iin::parse(""), Err(IinError::Length));
        assert_eq!(Iin::parse(&format!("{}A{}", &good[..5], &good[6..])), Err(IinError::NotDigits));
        assert_eq!(Iin::parse(&format!("{}-{}", &good[..6], &good[7..])), Err(IinError::NotDigits));
        assert_eq!(
            Iin::parse(&format!("{}٣{}", &good[..5], &good[6..])),
            Err(IinError::NotDigits),
            "Arabic-Indic digit"
        );
        assert!(Iin::parse(&format!("  {good}\t")).is_ok(), "surrounding whitespace is ignored");
    }

    #[test]
    fn the_hash_is_keyed_and_debug_hides_the_number() {
        let text = generate(date(1990, 5, 17), 4, 7).or_else(|| generate(date(1990, 5, 17), 4, 8)).unwrap();
        let iin = Iin::parse(&text).unwrap();
        let a = iin.hash(&Secret::new(b"key-a".to_vec()));
        assert_eq!(a.len(), 64);
        assert_eq!(a, iin.hash(&Secret::new(b"key-a".to_vec())));
        assert_ne!(a, iin.hash(&Secret::new(b"key-b".to_vec())));
        assert!(!format!("{iin:?}").contains(&text[..10]));
    }
}
