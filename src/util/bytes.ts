/**
 * A copy of exactly the bytes a view covers, as an ArrayBuffer of their own. Never `view.buffer`
 * or `Buffer#slice().buffer`: a Node Buffer is often a window on a shared 8 KiB pool (GridFS
 * reads of small files are), so its `.buffer` holds other data too.
 */
export function ownArrayBuffer(view: ArrayBufferView): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}
