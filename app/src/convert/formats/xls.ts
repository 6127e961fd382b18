// Legacy Excel (.xls, BIFF8 in an OLE compound file): refused with the fix. The one pure-JS
// reader, SheetJS, is no longer published to npm (its npm release, 0.18.5, is stale with known
// CVEs), and no other maintained one reads BIFF8; saving as .xlsx keeps everything this indexes.
import { ConversionError, type Extracted } from '../types.js';

export function convert(): Promise<Extracted> {
  return Promise.reject(
    new ConversionError('legacy_format', 'legacy Excel .xls (BIFF8) cannot be read: no maintained pure-JS reader exists. Fix: save it as .xlsx (Excel: File › Save As › Excel Workbook; LibreOffice: --convert-to xlsx) and upload that'),
  );
}
