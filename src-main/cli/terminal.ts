// The CLI's one output layer: every string it prints passes through here (context.ts's wrap for
// results, main.ts for errors, agent.ts for streamed answers), because titles, passages, file
// names, model output and tenant names are chosen by whoever wrote the document or runs the
// model. A hostile one could otherwise retitle the window (OSC 0), clear the screen (CSI 2J),
// rewrite earlier lines (CR, cursor moves), plant links (OSC 8) or reorder text (bidi overrides).
import { BIDI_CONTROLS } from '../../src-shared/display-text.js';

/**
 * Whole escape sequences first, so that their parameters do not survive as text: CSI (ESC [ or
 * 8-bit U+009B) up to its final byte; OSC, DCS, SOS, PM and APC (ESC ] P X ^ _, or U+009D U+0090
 * U+0098 U+009E U+009F) up to BEL or ST; any other ESC with the one character it introduces.
 */
const SEQUENCES =
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b[\]PX^_]|[\u009d\u0090\u0098\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)|\u001b[\s\S]?/gu;
/** What is left of C0 (but tab and newline), DEL and C1. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/gu;
const LINE_SEPARATORS = /[\u2028\u2029]/gu;

/** Text for a terminal: escape sequences, control characters and bidi controls removed. */
export function terminalText(text: string): string {
  return text.replace(SEQUENCES, '').replace(CONTROLS, '').replace(BIDI_CONTROLS, '').replace(LINE_SEPARATORS, ' ');
}

/**
 * JSON for a terminal: JSON.stringify already escapes C0, but not C1, bidi controls or line
 * separators; they are escaped here too (\uXXXX), so a program reading the JSON still gets every
 * character while a terminal showing it gets none of them raw.
 */
export function terminalJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
