// Text from a document, a model or a tenant, made safe to show. Shared by the CLI's output layer
// and by whatever shows names in the console, so both neutralise the same characters.

/** Bidi embeddings, overrides, isolates and marks: "invoice\u202Efdp.txt" displays as "invoicetxt.pdf". */
export const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/gu;

/** A name (file, title, tenant) with bidi controls removed, so it reads in the order it is stored. */
export function neutraliseBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}
