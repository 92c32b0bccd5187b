/**
 * Typed errors the UI and CLI can act on. Every error says which file, which tensor,
 * what was expected and what was found. Errors cross worker boundaries as plain objects
 * (see `toErrorInfo` / `fromErrorInfo`), so they carry only strings.
 */

export type FormatErrorCode =
  | 'truncated' // the file ends before a structure it declares
  | 'header-too-large' // a header larger than the named limit
  | 'bad-header' // a header that does not parse or has the wrong shape
  | 'invalid-json'
  | 'bad-magic' // the first bytes are not what the format requires
  | 'bad-offsets' // tensor data outside the data section
  | 'overlap' // two tensors claim the same bytes
  | 'size-mismatch' // shape x dtype != byte length
  | 'unknown-dtype'
  | 'bad-protobuf'
  | 'missing-file' // a shard or external-data file that is not there
  | 'bad-zip'
  | 'forbidden-pickle' // a pickle opcode or global outside the allowed set
  | 'bad-pickle'
  | 'bad-shape'
  | 'unknown-format'
  | 'bad-spec'; // a user-given spec (e.g. a permutation spec as JSON) that is malformed or does not fit the model

export type WeightLensErrorKind = 'FormatError' | 'UnsupportedError' | 'LimitError' | 'CancelledError' | 'NotFoundError';

export class WeightLensError extends Error {
  readonly kind: WeightLensErrorKind;
  readonly code: string;
  constructor(kind: WeightLensErrorKind, code: string, message: string) {
    super(message);
    this.kind = kind;
    this.code = code;
    this.name = kind;
  }
}

/** The bytes are not a valid file of the format: message names the file and the problem. */
export class FormatError extends WeightLensError {
  constructor(code: FormatErrorCode, message: string) {
    super('FormatError', code, message);
  }
}

/** Valid input that WeightLens does not handle (yet): e.g. a GGUF quant type it does not decode. */
export class UnsupportedError extends WeightLensError {
  constructor(code: string, message: string) {
    super('UnsupportedError', code, message);
  }
}

/** Input beyond a named safety limit (header bytes, tensor count, rank, elements). */
export class LimitError extends WeightLensError {
  constructor(code: string, message: string) {
    super('LimitError', code, message);
  }
}

export class NotFoundError extends WeightLensError {
  constructor(code: string, message: string) {
    super('NotFoundError', code, message);
  }
}

export class CancelledError extends WeightLensError {
  constructor(message = 'cancelled') {
    super('CancelledError', 'cancelled', message);
  }
}

/** Plain, structured-clone-safe form of an error. */
export interface ErrorInfo {
  kind: WeightLensErrorKind | 'Error';
  code: string;
  message: string;
}

export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof WeightLensError) return { kind: e.kind, code: e.code, message: e.message };
  if (e instanceof Error) {
    if (e.name === 'AbortError') return { kind: 'CancelledError', code: 'cancelled', message: 'cancelled' };
    return { kind: 'Error', code: 'internal', message: e.message };
  }
  return { kind: 'Error', code: 'internal', message: String(e) };
}

export function fromErrorInfo(info: ErrorInfo): Error {
  switch (info.kind) {
    case 'FormatError':
      return new FormatError(info.code as FormatErrorCode, info.message);
    case 'UnsupportedError':
      return new UnsupportedError(info.code, info.message);
    case 'LimitError':
      return new LimitError(info.code, info.message);
    case 'NotFoundError':
      return new NotFoundError(info.code, info.message);
    case 'CancelledError':
      return new CancelledError(info.message);
    default:
      return new Error(info.message);
  }
}

/** Throws CancelledError when the signal has fired; loops call this between chunks. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}
