// Text from a document, a model or a tenant, made safe to show. Shared by the CLI's output layer
// and by whatever shows names in the console, so both neutralise the same characters.

/** Bidi embeddings, overrides, isolates and marks: "invoice\u202Efdp.txt" displays as "invoicetxt.pdf". */
export const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/gu;

/** A name (file, title, tenant) with bidi controls removed, so it reads in the order it is stored. */
export function neutraliseBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/**
 * A name for the console: each bidi control shown as a visible escape ("invoice\u202Efdp.txt"
 * reads as typed, with the \u202E in it), so the user sees that the name hides something
 * instead of a silently repaired or reordered name.
 */
export function displayName(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `\\u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
}
