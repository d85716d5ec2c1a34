// What an evidence upload sends: which files go as they are, which a phone must turn into a JPEG
// first (a HEIC or WebP photo the API would refuse, a photo over the API's 10 MiB), the file's
// name as RFC 5987 `filename*`, and which message a refusal gets. The drawing itself needs a
// browser (reencode), the rest is plain arithmetic the unit tests check.
import type { MessageKey } from './i18n';

/** The API's limits: 10 MiB a file, 20 pieces an event. */
export const MAX_FILE = 10 * 1024 * 1024;
export const MAX_PIECES = 20;

/** The longest side a re-encoded photo keeps: enough to read a sign-in sheet, and a canvas every phone draws. */
export const MAX_SIDE = 4096;

export type SendType = 'image/jpeg' | 'image/png' | 'application/pdf';

/** What to do with a chosen file before it is sent. */
export type Plan =
  | { action: 'send'; type: SendType }
  | { action: 'reencode' }
  | { action: 'refuse'; reason: 'type' | 'size' };

const EXTENSIONS: Record<string, SendType | 'image'> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jfif: 'image/jpeg',
  png: 'image/png',
  pdf: 'application/pdf',
  heic: 'image',
  heif: 'image',
  webp: 'image',
  avif: 'image',
  gif: 'image',
  bmp: 'image',
  tif: 'image',
  tiff: 'image',
};

/** The file's type by its declared type, or its name's extension when the browser gives none. */
export function kindOf(name: string, type: string): SendType | 'image' | null {
  const t = type.toLowerCase().split(';')[0]?.trim() ?? '';
  if (t === 'image/jpeg' || t === 'image/jpg' || t === 'image/pjpeg') return 'image/jpeg';
  if (t === 'image/png') return 'image/png';
  if (t === 'application/pdf') return 'application/pdf';
  if (t.startsWith('image/')) return 'image';
  const ext = name.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? '';
  return EXTENSIONS[ext] ?? null;
}

/** Send as it is, draw into a JPEG first, or refuse here (a PDF cannot be made smaller). */
export function planUpload(name: string, type: string, size: number): Plan {
  const kind = kindOf(name, type);
  if (kind === null) return { action: 'refuse', reason: 'type' };
  if (kind === 'application/pdf') return size > MAX_FILE ? { action: 'refuse', reason: 'size' } : { action: 'send', type: kind };
  if (kind === 'image' || size > MAX_FILE) return { action: 'reencode' };
  return { action: 'send', type: kind };
}

/** The size a picture is drawn at: its own, or scaled down so its longest side is `maxSide`. */
export function fitWithin(width: number, height: number, maxSide: number = MAX_SIDE): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (longest <= maxSide || longest === 0) return { width, height };
  const scale = maxSide / longest;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A re-encoded photo's name: the same stem with `.jpg`. */
export function jpegName(name: string): string {
  const stem = name.replace(/\.[A-Za-z0-9]{1,5}$/, '');
  return `${stem || 'photo'}.jpg`;
}

/**
 * `Content-Disposition` carrying the file's name in any script, as RFC 6266 and RFC 5987 write
 * it: `attachment; filename*=UTF-8''<percent-encoded UTF-8>`, where only attr-chars stay as
 * they are (encodeURIComponent leaves `'()*` and `!`, of which `'()*` are not attr-chars).
 */
export function contentDisposition(name: string): string {
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename*=UTF-8''${encoded}`;
}

interface ProblemLike {
  errors?: { field: string; code: string }[] | null;
}

/** The message for a refused upload, by status (and the field a 422 names); null for the general one. */
export function refusal(status: number, problem: unknown): MessageKey | null {
  if (status === 413) return 'evidence.error.too_large';
  if (status === 415) return 'evidence.error.type';
  if (status === 422) {
    const errors = (problem as ProblemLike | null)?.errors ?? [];
    if (errors.some((e) => e.field === 'evidence' && e.code === 'limit')) return 'evidence.error.limit';
    // Removing evidence of a verified event: a rule of the event's state (it was a 409 before).
    if (errors.some((e) => e.field === 'verification' && e.code === 'verified')) return 'evidence.error.verified';
  }
  return null;
}

/** A file's size for people: KB under a megabyte, MB with one decimal above. */
export function sizeParts(bytes: number): { key: 'evidence.kb' | 'evidence.mb'; n: number } {
  if (bytes < 1024 * 1024) return { key: 'evidence.kb', n: Math.max(1, Math.round(bytes / 1024)) };
  return { key: 'evidence.mb', n: Math.round((bytes / (1024 * 1024)) * 10) / 10 };
}

/** Draws a picture the browser can decode into a JPEG under MAX_FILE, scaling down as needed. */
export async function reencode(file: Blob): Promise<Blob> {
  const source = await decode(file);
  try {
    let side = MAX_SIDE;
    for (let attempt = 0; attempt < 6; attempt++) {
      const { width, height } = fitWithin(source.width, source.height, side);
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const g = canvas.getContext('2d');
      if (!g) throw new Error('no 2d context');
      // A transparent PNG or WebP turns white, not black, in a JPEG.
      g.fillStyle = '#fff';
      g.fillRect(0, 0, width, height);
      g.drawImage(source.image, 0, 0, width, height);
      const blob = await new Promise<Blob | null>((ok) => canvas.toBlob(ok, 'image/jpeg', 0.85));
      canvas.width = 0;
      canvas.height = 0;
      if (!blob) throw new Error('toBlob gave nothing');
      if (blob.size <= MAX_FILE) return blob;
      side = Math.round(Math.min(side, Math.max(width, height)) * 0.75);
    }
    throw new Error('still too large');
  } finally {
    source.close();
  }
}

interface Decoded {
  image: CanvasImageSource;
  width: number;
  height: number;
  close: () => void;
}

/** createImageBitmap (which turns a photo upright by its EXIF orientation), else an <img>. */
async function decode(file: Blob): Promise<Decoded> {
  try {
    const bitmap = await createImageBitmap(file);
    return { image: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() };
  } catch {
    const url = URL.createObjectURL(file);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return { image: img, width: img.naturalWidth, height: img.naturalHeight, close: () => URL.revokeObjectURL(url) };
    } catch (e) {
      URL.revokeObjectURL(url);
      throw e;
    }
  }
}
