// The WebAssembly SIMD kernels of codes.wat, and the shared memories they run over. Each
// memory is used by two threads at most, each in a scratch area ("lane") of its own: lane 0 for
// the main thread, lane 1 for the vector worker (vector-worker.ts).
import { CODES_WASM_BASE64 } from './codes-wasm.js';

export const MAIN_LANE = 0;
export const WORKER_LANE = 1;
export const LANES = 2;

export interface Kernels {
  hamming(codes: number, n: number, query: number, out: number): void;
  asymmetric(codes: number, rows: number, m: number, table: number, out: number): void;
  dots(vectors: number, dim: number, rows: number, m: number, query: number, out: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where this engine cannot run it (then plain JS does the same work). */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(CODES_WASM_BASE64, 'base64');
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

/** This thread's kernels over `memory`, or null (no SIMD here, or a memory that is not shared: the module imports a shared one). */
export function kernelsFor(memory: WebAssembly.Memory): Kernels | null {
  const module = kernelModule();
  if (!module || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  try {
    return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels;
  } catch {
    return null;
  }
}

/** A shared memory of at least this many bytes, or a plain one where this engine has none (then nothing is shared). */
export function newMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.max(1, Math.ceil(bytes / 65_536));
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return new WebAssembly.Memory({ initial: pages });
  }
}

export const align = (n: number, to: number): number => Math.ceil(n / to) * to;
