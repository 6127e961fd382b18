// Legacy PowerPoint (.ppt, an OLE compound file): no maintained pure-JavaScript reader exists (the
// npm packages that claim it are unmaintained or only list the OLE streams), so such files are
// refused with the reason `legacy_format` and the fix.
import { ConversionError, type Extracted } from '../types.js';

/** The fix, also given for a legacy file named .pptx. */
export const SAVE_AS_PPTX = 'save it as .pptx (PowerPoint, or LibreOffice: soffice --headless --convert-to pptx file.ppt) and upload that';

export function convert(): Promise<Extracted> {
  return Promise.reject(
    new ConversionError(
      'legacy_format',
      `a legacy PowerPoint file (.ppt), which no maintained JavaScript reader opens: ${SAVE_AS_PPTX}`,
    ),
  );
}
