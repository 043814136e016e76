// Reads a model file's GGUF header and decides, before anything is loaded, whether the runtime
// may load it: a GGUF at all, complete (not truncated), and small enough for this machine.
import fs from 'node:fs';
import os from 'node:os';
import type { GgufFileInfo, GgufInsights } from 'node-llama-cpp';
import { BulkheadError } from '../../src-shared/errors.js';

export type ModelKind = 'chat' | 'embedding' | 'reranking';

/** What `models list` shows: read from the header only. */
export interface ModelHeader {
  architecture: string;
  /** The model's own name from its header, when it has one. */
  title: string | null;
  /** The weights' type, e.g. MOSTLY_Q4_K_M or ALL_F32. */
  quantisation: string;
  contextLength: number | null;
  kind: ModelKind;
  sizeBytes: number;
  /** Weights plus a 2,048-token context on the CPU: what loading it needs. */
  memoryBytes: number;
  parameters: number;
}

export interface CheckOptions {
  /** The memory the model may use; the machine's total memory by default. */
  memoryBytes?: number;
}

const MAGIC = Buffer.from('GGUF', 'ascii');
const CHECK_CONTEXT = 2048;

function readStart(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(8);
    const n = fs.readSync(fd, b, 0, 8, 0);
    return b.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function fileTypeNames(GgufFileType: Record<string, string | number>): Map<number, string> {
  return new Map(
    Object.entries(GgufFileType)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => [v as number, k]),
  );
}

type Meta = Record<string, unknown> & { pooling_type?: number; context_length?: number };

function kindOf(info: GgufFileInfo): ModelKind {
  const names = new Set((info.fullTensorInfo ?? []).map((t) => t.name));
  if (names.has('cls.weight') || names.has('cls.output.weight')) return 'reranking';
  const arch = info.architectureMetadata as Meta;
  const pooling = arch.pooling_type;
  if (pooling === 4) return 'reranking';
  if (pooling === 1 || pooling === 2 || pooling === 3) return 'embedding';
  const architecture = String(info.metadata.general.architecture);
  if (architecture.includes('bert')) return 'embedding';
  return 'chat';
}

/**
 * Checks a file and reads its header. MODEL_INVALID: not a GGUF, unreadable header, or fewer
 * bytes than the header's tensors need (truncated). MODEL_TOO_LARGE: needs more memory than allowed.
 */
export async function checkModelFile(file: string, opts: CheckOptions = {}): Promise<ModelHeader> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BulkheadError('MODEL_NOT_FOUND', `no model file at ${file}`);
    throw new BulkheadError('IO_ERROR', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!stat.isFile()) throw new BulkheadError('MODEL_INVALID', `${file} is not a regular file (links and folders are refused)`);
  const start = readStart(file);
  if (start.length < 8 || !start.subarray(0, 4).equals(MAGIC)) {
    throw new BulkheadError('MODEL_INVALID', `${file} is not a GGUF model (it does not start with "GGUF")`);
  }
  const version = start.readUInt32LE(4);
  if (version < 2 || version > 3) throw new BulkheadError('MODEL_INVALID', `${file} is GGUF version ${version}; versions 2 and 3 are supported`);
  // Loaded on first use: every other CLI command starts without the native runtime.
  const { GgufFileType, GgufInsights, readGgufFileInfo } = await import('./llama.js');
  let info: GgufFileInfo;
  let insights: GgufInsights;
  try {
    info = await readGgufFileInfo(file, { logWarnings: false, spliceSplitFiles: false });
    insights = await GgufInsights.from(info);
  } catch (err) {
    throw new BulkheadError('MODEL_INVALID', `the GGUF header of ${file} cannot be read (damaged or truncated)`, { cause: err });
  }
  const tensors = info.fullTensorInfo ?? [];
  if (tensors.length === 0) throw new BulkheadError('MODEL_INVALID', `${file} holds no tensors: it is not a model`);
  const weights = insights.modelSize;
  const train = insights.trainContextSize ?? null;
  let context = 0;
  try {
    context = insights.estimateContextResourceRequirements({ contextSize: Math.min(CHECK_CONTEXT, train ?? CHECK_CONTEXT), modelGpuLayers: 0 }).cpuRam;
  } catch {
    context = 0; // an architecture the estimator does not know: the weights alone decide
  }
  const memoryBytes = weights + context;
  const allowed = opts.memoryBytes ?? os.totalmem();
  if (memoryBytes > allowed) {
    throw new BulkheadError('MODEL_TOO_LARGE', `${file} needs about ${gib(memoryBytes)} of memory; this machine allows ${gib(allowed)}`);
  }
  const dataStart = Math.min(...tensors.map((t) => Number(t.fileOffset)));
  if (stat.size < dataStart + weights) {
    throw new BulkheadError('MODEL_INVALID', `${file} is truncated: ${stat.size} bytes, its header describes ${dataStart + weights}`);
  }
  const general = info.metadata.general as { architecture?: unknown; name?: unknown; file_type?: unknown };
  const fileType = typeof general.file_type === 'number' ? general.file_type : null;
  return {
    architecture: String(general.architecture ?? 'unknown'),
    title: typeof general.name === 'string' ? general.name.slice(0, 200) : null,
    quantisation: fileType === null ? 'unknown' : (fileTypeNames(GgufFileType).get(fileType) ?? `type ${fileType}`),
    contextLength: train,
    kind: kindOf(info),
    sizeBytes: stat.size,
    memoryBytes,
    parameters: insights.totalParameters,
  };
}

function gib(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
