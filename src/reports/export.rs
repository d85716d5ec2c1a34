//! CSV and XLSX from the same tables: CSV in UTF-8 with a BOM (so spreadsheet programs show
//! Kazakh correctly), `,`-separated with RFC 4180 quoting and CRLF line ends; XLSX with a sheet
//! per table and numbers typed as numbers.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Empty,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: &'static str, header: &[&'static str], rows: Vec<Vec<Cell>>) -> Self {
        Table { name, header: header.to_vec(), rows }
    }
}

pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn csv_bytes(table: &Table) -> Result<Vec<u8>, ApiError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        w.write_record(&table.header).map_err(ApiError::internal)?;
        for row in &table.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => neutralised(s),
                    Cell::Int(n) => n.to_string(),
                    Cell::Empty => String::new(),
                })
                .collect();
            w.write_record(&fields).map_err(ApiError::internal)?;
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

pub fn xlsx_bytes(tables: &[Table]) -> Result<Vec<u8>, ApiError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(anyhow::anyhow!("building the workbook: {e}"));
    let mut book = rust_xlsxwriter::Workbook::new();
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(table.name).map_err(fail)?;
        for (col, name) in table.header.iter().enumerate() {
            sheet.write_string(0, col as u16, *name).map_err(fail)?;
        }
        for (i, row) in table.rows.iter().enumerate() {
            let r = (i + 1) as u32;
            for (col, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, col as u16, s).map_err(fail)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, col as u16, *n as f64).map_err(fail)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
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
        let bytes = csv_bytes(&Table::new("t", &["name", "n"], rows)).unwrap();
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
    fn csv_has_a_bom_crlf_and_quotes_what_needs_it() {
        let t = Table::new(
            "x",
            &["a", "b"],
            vec![vec![Cell::Text("Ішкі, \"саясат\"".into()), Cell::Int(7)], vec![Cell::Empty, Cell::Int(0)]],
        );
        let bytes = csv_bytes(&t).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "\u{feff}a,b\r\n\"Ішкі, \"\"саясат\"\"\",7\r\n,0\r\n");
    }
}
