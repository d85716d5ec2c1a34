//! CSV and XLSX from the same tables: CSV in UTF-8 with a BOM (so spreadsheet programs show
//! Kazakh correctly), `,`-separated with RFC 4180 quoting and CRLF line ends; XLSX with a sheet
//! per table and numbers typed as numbers. Without a language a file says keys, codes and text
//! dates (for machines); with one, its words (`words.rs`), a title and typed dates.

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::words::{self, Lang};
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A local date.
    Date(NaiveDate),
    /// An instant, shown in the registry's time zone to people.
    Instant(DateTime<Utc>),
    Empty,
}

/// One table: a CSV file or an XLSX sheet. Each row holds a cell per `header` column, then, with a
/// comparison, one per `compared` column: that column's figure over the compared dates.
#[derive(Debug, Clone)]
pub struct Table {
    /// The sheet's name, a key of the words (`section.*` or `sheet.*`).
    pub name: &'static str,
    /// Column keys (`header.*` words).
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// The columns that carry a compared figure, in the order their cells follow a row's own.
    pub compared: Vec<usize>,
    /// How many of the last own columns were added after the comparison was: CSV writes them
    /// after the compared columns, so no column a machine reads ever moves.
    pub later: usize,
}

impl Table {
    pub fn new(name: &'static str, header: &[&'static str], rows: Vec<Vec<Cell>>) -> Self {
        Table { name, header: header.to_vec(), rows, compared: Vec::new(), later: 0 }
    }
}

/// Who a file is written for: machines (no language: keys, codes and UTC instants, as the CSV has
/// always been) or people in a language; the registry's time zone; the title naming the report
/// and its period.
#[derive(Debug, Clone)]
pub struct Render {
    pub lang: Option<Lang>,
    pub tz: Tz,
    pub title: String,
}

impl Render {
    fn header(&self, key: &'static str) -> String {
        words::say(self.lang, "header", key).to_string()
    }

    fn previous_header(&self, key: &'static str) -> String {
        match self.lang {
            Some(l) => {
                format!("{} ({})", self.header(key), words::word(l, "compare", "previous").unwrap_or("previous"))
            }
            None => format!("{key}_previous"),
        }
    }

    fn sheet_name(&self, key: &'static str) -> &'static str {
        match self.lang {
            Some(l) => words::word(l, "section", key).or_else(|| words::word(l, "sheet", key)).unwrap_or(key),
            None => key,
        }
    }

    /// A table's columns as written: CSV keeps a row's own columns first and the compared ones
    /// after them (machines find the old columns where they were); a sheet puts each compared
    /// column beside its own. Each entry: the header and the index of the cell in a row.
    fn columns(&self, table: &Table, beside: bool) -> Vec<(String, usize)> {
        let own = table.header.len();
        let previous = |i: usize| {
            table.compared.iter().position(|c| *c == i).map(|p| (self.previous_header(table.header[i]), own + p))
        };
        if beside {
            (0..own).flat_map(|i| std::iter::once((self.header(table.header[i]), i)).chain(previous(i))).collect()
        } else {
            let first = own - table.later.min(own);
            (0..first)
                .map(|i| (self.header(table.header[i]), i))
                .chain(table.compared.iter().filter_map(|c| previous(*c)))
                .chain((first..own).map(|i| (self.header(table.header[i]), i)))
                .collect()
        }
    }

    fn local(&self, t: DateTime<Utc>) -> chrono::NaiveDateTime {
        t.with_timezone(&self.tz).naive_local()
    }
}

pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn csv_bytes(table: &Table, render: &Render) -> Result<Vec<u8>, ApiError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    let columns = render.columns(table, false);
    {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        w.write_record(columns.iter().map(|(h, _)| h)).map_err(ApiError::internal)?;
        for row in &table.rows {
            let fields = columns.iter().map(|(_, i)| match row.get(*i).unwrap_or(&Cell::Empty) {
                Cell::Text(s) => neutralised(s),
                Cell::Int(n) => n.to_string(),
                Cell::Date(d) => d.to_string(),
                Cell::Instant(t) => match render.lang {
                    None => utc_text(*t),
                    Some(_) => render.local(*t).format("%Y-%m-%d %H:%M").to_string(),
                },
                Cell::Empty => String::new(),
            });
            w.write_record(fields).map_err(ApiError::internal)?;
        }
        w.flush().map_err(ApiError::internal)?;
    }
    Ok(out)
}

/// A text cell as a CSV file may carry it: one that a spreadsheet would run as a formula (it starts
/// with `=`, `+`, `-`, `@`, TAB or CR) gets a leading `'`, as OWASP advises against CSV injection.
/// Numbers are written by `Cell::Int` and never pass through here.
fn neutralised(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

/// An instant as machines read it: UTC, RFC 3339, to the second.
fn utc_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The characters a cell shows, for the column's width.
fn shown_width(cell: &Cell) -> usize {
    match cell {
        Cell::Text(s) => s.chars().count(),
        Cell::Int(n) => n.to_string().len(),
        Cell::Date(_) => 10,
        Cell::Instant(_) => 20,
        Cell::Empty => 0,
    }
}

/// A workbook with a sheet per table: a bold frozen header row, columns as wide as what they hold
/// and numbers as numbers. For machines (no language) the header is the first row and dates and
/// instants are text as the CSV writes them (`YYYY-MM-DD`, UTC RFC 3339), as the workbook has
/// always been; for people the title comes first, the header below it, and dates and instants are
/// date cells (instants in the registry's time zone).
pub fn xlsx_bytes(tables: &[Table], render: &Render) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
    let fail = |e: XlsxError| ApiError::internal(anyhow::anyhow!("building the workbook: {e}"));
    let (date_form, instant_form) = match render.lang {
        Some(Lang::Kk | Lang::Ru) => ("dd.mm.yyyy", "dd.mm.yyyy hh:mm"),
        _ => ("yyyy-mm-dd", "yyyy-mm-dd hh:mm"),
    };
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format(date_form);
    let instant_format = Format::new().set_num_format(instant_form);
    let date = |d: NaiveDate| ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8);
    let mut book = Workbook::new();
    for table in tables {
        let columns = render.columns(table, true);
        let sheet = book.add_worksheet();
        sheet.set_name(render.sheet_name(table.name)).map_err(fail)?;
        let head: u32 = match render.lang {
            None => 0,
            Some(_) => {
                sheet.write_string_with_format(0, 0, &render.title, &bold).map_err(fail)?;
                1
            }
        };
        let mut widths: Vec<usize> = columns.iter().map(|(h, _)| h.chars().count()).collect();
        for (col, (name, _)) in columns.iter().enumerate() {
            sheet.write_string_with_format(head, col as u16, name, &bold).map_err(fail)?;
        }
        for (i, row) in table.rows.iter().enumerate() {
            let r = head + 1 + i as u32;
            for (col, (_, at)) in columns.iter().enumerate() {
                let c = col as u16;
                let cell = row.get(*at).unwrap_or(&Cell::Empty);
                widths[col] = widths[col].max(shown_width(cell));
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s).map_err(fail)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64).map_err(fail)?;
                    }
                    Cell::Date(d) if render.lang.is_none() => {
                        sheet.write_string(r, c, d.to_string()).map_err(fail)?;
                    }
                    Cell::Instant(t) if render.lang.is_none() => {
                        sheet.write_string(r, c, utc_text(*t)).map_err(fail)?;
                    }
                    // A spreadsheet's dates begin in 1900: a compared period may reach before it
                    // (from=1900-01-01 with previous_year), and such a day is written as text.
                    Cell::Date(d) => match date(*d) {
                        Ok(at) => {
                            sheet.write_datetime_with_format(r, c, at, &date_format).map_err(fail)?;
                        }
                        Err(_) => {
                            sheet.write_string(r, c, d.to_string()).map_err(fail)?;
                        }
                    },
                    Cell::Instant(t) => {
                        let l = render.local(*t);
                        let at = date(l.date())
                            .and_then(|d| d.and_hms(l.hour() as u16, l.minute() as u8, l.second()))
                            .map_err(fail)?;
                        sheet.write_datetime_with_format(r, c, at, &instant_format).map_err(fail)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        for (col, width) in widths.iter().enumerate() {
            // A little room beside the text, and no column wider than a screen's third.
            sheet.set_column_width(col as u16, (*width as f64 + 2.0).clamp(6.0, 60.0)).map_err(fail)?;
        }
        sheet.set_freeze_panes(head + 1, 0).map_err(fail)?;
    }
    book.save_to_buffer().map_err(fail)
}

/// A file answer with its name in `Content-Disposition`.
pub fn file(content_type: &str, filename: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .body(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machines() -> Render {
        Render { lang: None, tz: chrono_tz::Asia::Almaty, title: String::new() }
    }

    #[test]
    fn csv_text_cells_that_a_spreadsheet_would_run_get_a_leading_quote() {
        let rows = [
            "=HYPERLINK(\"http://x\",\"click\")",
            "+cmd|' /C calc'!A0",
            "@SUM(1+1)",
            "-2+3",
            "\tx",
            "\rx",
            "ok = fine",
        ]
        .iter()
        .map(|t| vec![Cell::Text(t.to_string()), Cell::Int(-5)])
        .collect();
        let bytes = csv_bytes(&Table::new("t", &["name", "n"], rows), &machines()).unwrap();
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        let cells: Vec<(String, String)> =
            reader.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[1].to_string())).collect();
        let expected = [
            "'=HYPERLINK(\"http://x\",\"click\")",
            "'+cmd|' /C calc'!A0",
            "'@SUM(1+1)",
            "'-2+3",
            "'\tx",
            "'\rx",
            "ok = fine",
        ];
        for ((text, n), want) in cells.iter().zip(expected) {
            assert_eq!(text, want);
            assert_eq!(n, "-5", "numbers are not text cells and keep their sign");
        }
        assert_eq!(cells.len(), 7);
    }

    #[test]
    fn a_workbook_types_dates_and_writes_a_day_before_1900_as_text() {
        use calamine::{Data, Reader};
        let day = |y, m, d| Cell::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let t = Table::new("t", &["from"], vec![vec![day(2024, 2, 29)], vec![day(1899, 1, 1)]]);
        let bytes = xlsx_bytes(&[t], &Render { lang: Some(Lang::En), title: "T".into(), ..machines() }).unwrap();
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let rows: Vec<Vec<Data>> = book.worksheet_range("t").unwrap().rows().map(|r| r.to_vec()).collect();
        match &rows[2][0] {
            Data::DateTime(d) => {
                let (y, m, day, ..) = d.to_ymd_hms_milli();
                assert_eq!((y, m, day), (2024, 2, 29));
            }
            other => panic!("not a date cell: {other:?}"),
        }
        assert_eq!(rows[3][0], Data::String("1899-01-01".into()));
    }

    #[test]
    fn a_workbook_for_machines_has_its_header_first_and_dates_as_text() {
        use calamine::{Data, Reader};
        let at = DateTime::parse_from_rfc3339("2024-03-31T20:30:00Z").unwrap().with_timezone(&Utc);
        let day = Cell::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        let t = Table::new("t", &["from", "at"], vec![vec![day, Cell::Instant(at)]]);
        let bytes = xlsx_bytes(&[t], &Render { title: "T".into(), ..machines() }).unwrap();
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let rows: Vec<Vec<Data>> = book.worksheet_range("t").unwrap().rows().map(|r| r.to_vec()).collect();
        let text = |s: &str| Data::String(s.into());
        assert_eq!(rows, vec![vec![text("from"), text("at")], vec![text("2024-02-29"), text("2024-03-31T20:30:00Z")]]);
    }

    #[test]
    fn csv_has_a_bom_crlf_and_quotes_what_needs_it() {
        let t = Table::new(
            "x",
            &["a", "b"],
            vec![vec![Cell::Text("Ішкі, \"саясат\"".into()), Cell::Int(7)], vec![Cell::Empty, Cell::Int(0)]],
        );
        let bytes = csv_bytes(&t, &machines()).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "\u{feff}a,b\r\n\"Ішкі, \"\"саясат\"\"\",7\r\n,0\r\n");
    }
}
