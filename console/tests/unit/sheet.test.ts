import { describe, expect, it } from 'vitest';
import { maskIin, sheetColumn, sheetRow, sheetType, XLSX_TYPE } from '../../src/sheet';

describe('sign-in sheet refusals', () => {
  it("names the sheet's own row: rows[0] is row 2, under the header", () => {
    expect(sheetRow('rows[0].iin')).toBe(2);
    expect(sheetRow('rows[7].full_name')).toBe(9);
  });

  it('has no row for an error about the whole sheet', () => {
    expect(sheetRow('body')).toBeNull();
    expect(sheetColumn('rows[3].iin')).toBe('iin');
  });

  it('sends CSV and XLSX with their types and refuses anything else', () => {
    expect(sheetType('Қатысушылар.CSV')).toBe('text/csv');
    expect(sheetType('sheet.xlsx')).toBe(XLSX_TYPE);
    expect(sheetType('sheet.pdf')).toBeNull();
  });
});

describe('attendees', () => {
  it('shows an IIN by its last two digits only', () => {
    expect(maskIin('12')).toBe('••••••••••12');
    expect(maskIin(null)).toBe('—');
  });
});
