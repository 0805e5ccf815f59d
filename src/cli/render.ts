/**
 * What the CLI prints from the store for people to read. Names, subjects and messages came
 * from clients (a login's user name, a bundle's file name), so none may move the cursor,
 * recolour the terminal, end a line early or reorder text: every human-readable view passes
 * its values through escapeText.
 */

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

/**
 * C0 and C1 controls and DEL as `\n`, `\x1b`..., the bidirectional overrides and isolates
 * as `\u202e`..., and a backslash as `\\`, so an escaped form is never mistaken for the
 * character it stands for.
 */
export function escapeText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g, (c) => {
    const code = c.charCodeAt(0);
    return ESCAPES[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/** Writes `text` to stdout, waiting when the reader is slower, so a long listing never piles up in memory. */
export async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}
