//! Calendar questions in the registry's time zone: the UTC bounds of local days, and parsing of
//! the `from`/`to` query parameters.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::ApiError;

/// The UTC instant at which local `date` begins in `tz` (the earliest, if the clock was set back
/// at midnight; the first valid instant after a gap).
pub fn local_day_start(date: NaiveDate, tz: Tz) -> NaiveDateTime {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.naive_utc(),
        chrono::LocalResult::Ambiguous(a, _) => a.naive_utc(),
        chrono::LocalResult::None => {
            // Midnight skipped by a DST jump: the day starts at the first instant that exists.
            (1..=180)
                .find_map(|m| tz.from_local_datetime(&(midnight + chrono::Duration::minutes(m))).earliest())
                .map(|t| t.naive_utc())
                .unwrap_or(midnight)
        }
    }
}

/// A date (`YYYY-MM-DD`), or the local date of an RFC 3339 instant; years outside 1900–2100 are
/// refused (422), as instants are everywhere.
pub fn parse_local_date(field: &str, value: &str, tz: Tz) -> Result<NaiveDate, ApiError> {
    use chrono::Datelike;
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&tz).date_naive()))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{field} must be {} or {}",
                crate::http::explain::DATE_FORM,
                crate::http::explain::INSTANT_FORM
            ))
        })?;
    if crate::http::explain::YEARS.contains(&date.year()) {
        Ok(date)
    } else {
        Err(ApiError::field(field, "range", "must fall in the years 1900 to 2100"))
    }
}

/// A `from`/`to` bound given as a date (`YYYY-MM-DD`, a local day) or an RFC 3339 instant.
/// `end` makes a date inclusive: its bound is the start of the next local day. Bounds before
/// 1900 or after 2100 are refused (422), as instants are everywhere.
pub fn parse_bound(field: &str, value: &str, tz: Tz, end: bool) -> Result<NaiveDateTime, ApiError> {
    use chrono::Datelike;
    let year_of = |d: NaiveDate| d.year();
    let in_years = |year: i32| {
        if crate::http::explain::YEARS.contains(&year) {
            Ok(())
        } else {
            Err(ApiError::field(field, "range", "must fall in the years 1900 to 2100"))
        }
    };
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        in_years(year_of(date))?;
        let date = if end { date.succ_opt().unwrap_or(date) } else { date };
        return Ok(local_day_start(date, tz));
    }
    let at = DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&Utc).naive_utc()).map_err(|_| {
        ApiError::bad_request(format!(
            "{field} must be {} or {}",
            crate::http::explain::DATE_FORM,
            crate::http::explain::INSTANT_FORM
        ))
    })?;
    in_years(year_of(at.date()))?;
    Ok(at)
}

/// The `from` and `to` a list is asked for, each read by [`parse_bound`] (`from` first, and `to`
/// inclusive of its day).
pub fn parse_period(
    from: Option<&str>,
    to: Option<&str>,
    tz: Tz,
) -> Result<(Option<NaiveDateTime>, Option<NaiveDateTime>), ApiError> {
    let from = from.map(|v| parse_bound("from", v, tz, false)).transpose()?;
    let to = to.map(|v| parse_bound("to", v, tz, true)).transpose()?;
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn almaty_days_start_at_the_offset_in_force_that_day() {
        let tz: Tz = "Asia/Almaty".parse().unwrap();
        // UTC+6 until 2024-03-01, UTC+5 after.
        let feb = local_day_start(NaiveDate::from_ymd_opt(2024, 2, 1).unwrap(), tz);
        assert_eq!(feb.to_string(), "2024-01-31 18:00:00");
        let april = local_day_start(NaiveDate::from_ymd_opt(2024, 4, 1).unwrap(), tz);
        assert_eq!(april.to_string(), "2024-03-31 19:00:00");
    }

    #[test]
    fn an_inclusive_end_date_ends_at_the_next_local_midnight() {
        let tz: Tz = "Asia/Almaty".parse().unwrap();
        let end = parse_bound("to", "2024-03-31", tz, true).unwrap();
        assert_eq!(end.to_string(), "2024-03-31 19:00:00");
        assert!(matches!(parse_bound("to", "31.03.2024", tz, true), Err(ApiError::BadRequest(_))));
    }
}
