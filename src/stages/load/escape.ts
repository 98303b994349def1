// C0 and C1 control characters, DEL, and the bidirectional overrides that can reorder a line on
// screen: none of them may reach a terminal from a file name or a field.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes untrusted text safe to print: control characters become visible escapes (`\x1b`,
 * `\u202e`), so an ESC in a file name cannot drive the terminal. Other text is unchanged.
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
