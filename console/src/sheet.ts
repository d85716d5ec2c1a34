// How a sign-in sheet's refusals and attendees' IINs are shown to people.

/** The sheet's own row number for a `rows[i].…` error: the header is row 1, rows count from 0. */
export function sheetRow(field: string): number | null {
  const m = /^rows\[(\d+)\]/.exec(field);
  return m ? Number(m[1]) + 2 : null;
}

/** The column a `rows[i].column` error names, without its row. */
export function sheetColumn(field: string): string {
  return field.replace(/^rows\[\d+\]\.?/, '');
}

/** An IIN as the registry keeps it for display: only its last two digits. */
export function maskIin(last2: string | null | undefined): string {
  return last2 ? `••••••••••${last2}` : '—';
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The Content-Type for a sheet file by its name, or null for anything but CSV and XLSX. */
export function sheetType(fileName: string): string | null {
  const name = fileName.toLowerCase();
  return name.endsWith('.xlsx') ? XLSX_TYPE : name.endsWith('.csv') ? 'text/csv' : null;
}
