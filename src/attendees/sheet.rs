//! Sign-in sheets: CSV or XLSX as people export them, columns found by their header in Kazakh,
//! Russian or English. The header is the first line (CSV) or the first non-empty row (XLSX);
//! `rows[i]` is the i-th line after it, counting from 0, blank lines included — so `rows[i]` is
//! line `i + 2` of a sheet whose header is line 1. Blank lines are skipped, other columns ignored.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};

use super::model::{MAX_SHEET_ROWS, RawRow};
use crate::error::ApiError;
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    FullName,
    Iin,
    BirthYear,
    Gender,
    Organisation,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::FullName => "full_name",
            Column::Iin => "iin",
            Column::BirthYear => "birth_year",
            Column::Gender => "gender",
            Column::Organisation => "organisation",
        }
    }
}

/// A header folded for matching: lowercase, without spaces, `-`, `_` or `.`, so "Аты-жөні",
/// "аты жөні" and "АТЫ ЖӨНІ" match alike, as do "Ф.И.О." and "ФИО".
fn fold_header(h: &str) -> String {
    text::fold(h).chars().filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '.' | '\u{feff}')).collect()
}

fn column_for(header: &str) -> Option<Column> {
    Some(match fold_header(header).as_str() {
        "атыжөні" | "толықатыжөні" | "тегіатыәкесініңаты" | "фио" | "фамилияимяотчество" | "fullname" | "name" => {
            Column::FullName
        }
        "жсн" | "иин" | "iin" => Column::Iin,
        "туғанжылы" | "годрождения" | "birthyear" => Column::BirthYear,
        "жынысы" | "пол" | "gender" | "sex" => Column::Gender,
        "ұйым" | "ұйымы" | "жұмысорны" | "организация" | "местоработы" | "organisation" | "organization" => {
            Column::Organisation
        }
        _ => return None,
    })
}

fn sheet_error(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::field("sheet", code, message)
}

/// Which column each header cell names; 422 when a column repeats or no full-name column exists.
fn header_map(cells: &[String]) -> Result<Vec<Option<Column>>, ApiError> {
    let map: Vec<Option<Column>> = cells.iter().map(|c| column_for(c)).collect();
    for (i, c) in map.iter().enumerate() {
        if let Some(c) = c
            && map[..i].contains(&Some(*c))
        {
            return Err(sheet_error("header", format!("two columns of the header are {}", c.name())));
        }
    }
    if !map.contains(&Some(Column::FullName)) {
        return Err(sheet_error(
            "header",
            "the header has no full-name column (Аты-жөні, ФИО or full_name); the first line must be the header",
        ));
    }
    Ok(map)
}

fn row_from(map: &[Option<Column>], cells: impl IntoIterator<Item = (usize, String)>) -> RawRow {
    let mut row = RawRow::default();
    for (i, value) in cells {
        let slot = match map.get(i).copied().flatten() {
            Some(Column::FullName) => &mut row.full_name,
            Some(Column::Iin) => &mut row.iin,
            Some(Column::BirthYear) => &mut row.birth_year,
            Some(Column::Gender) => &mut row.gender,
            Some(Column::Organisation) => &mut row.organisation,
            None => continue,
        };
        *slot = Some(value);
    }
    row
}

fn too_many() -> ApiError {
    sheet_error("rows", format!("a sheet holds at most {MAX_SHEET_ROWS} attendee rows; split it"))
}

/// Collects the non-blank rows after the header, refusing more than the limit and an empty sheet.
fn collect(rows: impl Iterator<Item = Result<(usize, RawRow), ApiError>>) -> Result<Vec<(String, RawRow)>, ApiError> {
    let mut out = Vec::new();
    for row in rows {
        let (i, raw) = row?;
        if raw.is_blank() {
            continue;
        }
        if out.len() == MAX_SHEET_ROWS {
            return Err(too_many());
        }
        out.push((format!("rows[{i}]"), raw));
    }
    if out.is_empty() {
        return Err(sheet_error("empty", "the sheet has a header but no attendees"));
    }
    Ok(out)
}

/// `;` when the header line has more semicolons than commas outside quotes, else `,`.
fn detect_separator(header_line: &str) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for c in header_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// A CSV sheet: UTF-8 with or without BOM, `,` or `;` separated.
pub fn from_csv(bytes: &[u8]) -> Result<Vec<(String, RawRow)>, ApiError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let content = std::str::from_utf8(bytes).map_err(|e| {
        sheet_error(
            "encoding",
            format!(
                "the sheet is not UTF-8 text (byte {}); save it as \"CSV UTF-8\" rather than a Windows code page",
                e.valid_up_to()
            ),
        )
    })?;
    let header_line = content.lines().next().unwrap_or("");
    if header_line.trim().is_empty() {
        return Err(sheet_error("header", "the first line must be the header"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(detect_separator(header_line))
        .from_reader(content.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h.iter().map(str::to_string).collect::<Vec<_>>(),
        _ => return Err(sheet_error("header", "the first line must be the header")),
    };
    let map = header_map(&header)?;
    // The reader skips empty lines and its own line numbers are unreliable with CRLF, so each
    // record's line is counted here from its byte offset, keeping `rows[i]` = line i + 2.
    let bytes = content.as_bytes();
    let (mut cursor, mut line) = (0usize, 1usize);
    collect(records.enumerate().map(|(n, record)| {
        let record = record
            .map_err(|_| sheet_error("csv", format!("line {} is not valid CSV (an unclosed quote?)", line + 1)))?;
        let i = match record.position() {
            Some(pos) => {
                let mut start = (pos.byte() as usize).min(bytes.len());
                while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
                    start += 1;
                }
                if start > cursor {
                    line += bytes[cursor..start].iter().filter(|b| **b == b'\n').count();
                    cursor = start;
                }
                line.saturating_sub(2)
            }
            None => n,
        };
        Ok((i, row_from(&map, record.iter().map(str::to_string).enumerate())))
    }))
}

/// A cell as text. A number in the IIN column is padded back to 12 digits, since a spreadsheet
/// that took the IIN for a number dropped its leading zeros (everyone born in 2000–2009).
fn cell_text(value: &DataRef<'_>, is_iin: bool) -> String {
    let integral = match value {
        DataRef::Int(n) => Some(*n),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(*f as i64),
        _ => None,
    };
    if let Some(n) = integral {
        return if is_iin && (0..1_000_000_000_000).contains(&n) { format!("{n:012}") } else { n.to_string() };
    }
    match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.to_string(),
        _ => String::new(),
    }
}

/// Columns past this are ignored: a sign-in sheet has a handful, and a crafted workbook must not
/// make the server hold a huge row.
const MAX_COLUMNS: u32 = 100;

/// The most a workbook may unpack to. A sheet of the row limit's worth of attendees unpacks to a
/// few MiB; deflate packs repeated text about a thousandfold, so a body within the size limit
/// could otherwise unpack to gigabytes, and calamine holds a workbook's shared strings whole.
const MAX_XLSX_UNPACKED: u64 = 32 << 20;

/// Refuses a workbook whose parts would unpack to more than [`MAX_XLSX_UNPACKED`], by the sizes its
/// central directory declares. The zip reader stops any part at its declared size (a part that
/// unpacks past it is an error), so a workbook cannot declare little and unpack much.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), ApiError> {
    let unreadable = || sheet_error("xlsx", "the body is not a readable XLSX workbook");
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        total = total.saturating_add(archive.by_index_raw(i).map_err(|_| unreadable())?.size());
    }
    if total > MAX_XLSX_UNPACKED {
        return Err(sheet_error(
            "xlsx",
            format!(
                "the workbook unpacks to more than {} MiB; a sign-in sheet needs far less",
                MAX_XLSX_UNPACKED >> 20
            ),
        ));
    }
    Ok(())
}

/// An XLSX sheet: the workbook's first worksheet, read cell by cell so a workbook with more rows
/// than allowed is refused as soon as that is known, without loading it whole.
pub fn from_xlsx(bytes: &[u8]) -> Result<Vec<(String, RawRow)>, ApiError> {
    check_unpacked_size(bytes)?;
    let unreadable = || sheet_error("xlsx", "the body is not a readable XLSX workbook");
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let first = book.sheet_names().first().cloned().ok_or_else(unreadable)?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(|_| unreadable())?;
    // Rows in stream order, each a list of (column, cell); only non-empty cells are kept.
    let mut rows: BTreeMap<u32, Vec<(u32, DataRef<'_>)>> = BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(|_| unreadable())? {
        let (r, c) = cell.get_position();
        let value = cell.get_value();
        if c >= MAX_COLUMNS || matches!(value, DataRef::Empty) {
            continue;
        }
        if let DataRef::String(s) = value
            && s.trim().is_empty()
        {
            continue;
        }
        if !rows.contains_key(&r) && rows.len() > MAX_SHEET_ROWS {
            // The header and the limit's worth of rows are already held: one more is too many.
            return Err(too_many());
        }
        rows.entry(r).or_default().push((c, value.clone()));
    }
    let mut rows = rows.into_iter();
    let Some((header_row, header_cells)) = rows.next() else {
        return Err(sheet_error("header", "the sheet is empty; its first row must be the header"));
    };
    let width = header_cells.iter().map(|(c, _)| *c + 1).max().unwrap_or(0) as usize;
    let mut header = vec![String::new(); width];
    for (c, v) in &header_cells {
        header[*c as usize] = cell_text(v, false);
    }
    let map = header_map(&header)?;
    let iin_column = map.iter().position(|c| *c == Some(Column::Iin));
    collect(rows.map(|(r, cells)| {
        let i = (r - header_row - 1) as usize;
        let texts = cells.iter().map(|(c, v)| (*c as usize, cell_text(v, Some(*c as usize) == iin_column)));
        Ok((i, row_from(&map, texts)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_in_three_languages_ignoring_case_and_spacing() {
        for (h, c) in [
            ("Аты-жөні", Column::FullName),
            (" АТЫ ЖӨНІ ", Column::FullName),
            ("ФИО", Column::FullName),
            ("Ф.И.О.", Column::FullName),
            ("Full_Name", Column::FullName),
            ("ЖСН", Column::Iin),
            ("иин", Column::Iin),
            ("IIN", Column::Iin),
            ("Туған жылы", Column::BirthYear),
            ("Год рождения", Column::BirthYear),
            ("birth_year", Column::BirthYear),
            ("Жынысы", Column::Gender),
            ("Пол", Column::Gender),
            ("Ұйым", Column::Organisation),
            ("Организация", Column::Organisation),
            ("organisation", Column::Organisation),
        ] {
            assert_eq!(column_for(h), Some(c), "{h}");
        }
        assert_eq!(column_for("Қолы"), None);
    }

    #[test]
    fn the_separator_is_taken_from_the_header_line() {
        assert_eq!(detect_separator("ФИО;ИИН;Организация"), b';');
        assert_eq!(detect_separator("full_name,iin"), b',');
        assert_eq!(detect_separator("\"Фамилия, имя\";ИИН"), b';');
        assert_eq!(detect_separator("ФИО"), b',');
    }

    #[test]
    fn a_csv_with_bom_and_semicolons_reads_by_header() {
        let csv = "\u{feff}№;Аты-жөні;ЖСН;Қолы\r\n1;Айгүл Нұрланқызы;;\r\n\r\n2;\"Ерлан; Серікұлы\";;\r\n3;\"Асқар\nБолатұлы\"\n\n;;\n5;Дана\n";
        let rows = from_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[2].0, "rows[3]", "{rows:?}");
        assert_eq!(rows[3].0, "rows[7]", "a quoted line break and a line of empty cells keep the count");
        assert_eq!(rows[0].0, "rows[0]");
        assert_eq!(rows[0].1.full_name.as_deref(), Some("Айгүл Нұрланқызы"));
        assert_eq!(rows[1].0, "rows[2]", "a blank line keeps its place in the numbering");
        assert_eq!(rows[1].1.full_name.as_deref(), Some("Ерлан; Серікұлы"));
    }

    #[test]
    fn a_workbook_that_unpacks_past_the_limit_is_refused_before_it_is_read() {
        use std::io::Write;
        let mut packed = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut packed);
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/sharedStrings.xml", deflated).unwrap();
        let block = vec![b' '; 1 << 20];
        for _ in 0..(MAX_XLSX_UNPACKED >> 20) + 1 {
            zip.write_all(&block).unwrap();
        }
        zip.finish().unwrap();
        let bytes = packed.into_inner();
        assert!(bytes.len() < 1 << 20, "the body itself is small: {} bytes", bytes.len());
        let Err(ApiError::Validation(errors)) = from_xlsx(&bytes) else { panic!("refused as a validation error") };
        assert!(errors[0].message.contains("unpacks to more than 32 MiB"), "{errors:?}");
    }

    #[test]
    fn a_sheet_without_a_name_column_or_in_another_encoding_is_refused() {
        assert!(from_csv("ЖСН;Ұйым\n1;2\n".as_bytes()).is_err());
        // "ФИО" in Windows-1251.
        assert!(from_csv(b"\xd4\xc8\xce\n\xc0\xe1\n").is_err());
        assert!(from_csv(b"full_name\n").is_err(), "a header alone adds nobody");
    }
}
