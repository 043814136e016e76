// The model library: GGUF files in one folder outside every tenant (models are not tenant data),
// `<dataDir>/models` unless the user points elsewhere (BULKHEAD_MODELS_DIR or --models-dir).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import { fsyncDir } from '../vault/paths.js';
import { checkModelFile, type CheckOptions, type ModelHeader } from './gguf-check.js';

export const MODELS_DIR_NAME = 'models';
/** Downloads in progress, resumable; never listed as models. */
export const PARTIAL_DIR_NAME = '.partial';

export interface LibraryModel extends ModelHeader {
  /** The file name in the library: how a tenant and the CLI name the model. */
  name: string;
  path: string;
}

/** A listed file whose header cannot be used: shown, never loaded. */
export interface BrokenModel {
  name: string;
  path: string;
  error: { code: string; message: string };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.gguf$/;

export function resolveModelsDir(dataDir: string, flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? (env.BULKHEAD_MODELS_DIR?.trim() || undefined);
  return path.resolve(chosen ?? path.join(dataDir, MODELS_DIR_NAME));
}

/** A model name as the library stores it: a plain file name ending in .gguf. */
export function checkModelName(name: string): string {
  const n = name.trim();
  if (!NAME.test(n)) {
    throw new BulkheadError('INPUT_INVALID', `"${n.slice(0, 160)}" is not a model name: use letters, digits, '.', '_' or '-', ending in .gguf`);
  }
  return n;
}

export class ModelLibrary {
  constructor(
    readonly dir: string,
    private readonly checkOptions: CheckOptions = {},
  ) {}

  ensureDir(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The path of a model in the library; MODEL_NOT_FOUND when it is not there. */
  pathOf(nameInput: string): string {
    const name = checkModelName(nameInput);
    const file = path.join(this.dir, name);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(file);
    } catch {
      throw new BulkheadError('MODEL_NOT_FOUND', `no model named "${name}" in the library (${this.dir}); see \`bulkhead models list\``);
    }
    if (!stat.isFile()) throw new BulkheadError('MODEL_INVALID', `the library entry "${name}" is not a regular file`);
    return file;
  }

  async get(name: string): Promise<LibraryModel> {
    const file = this.pathOf(name);
    return { name: checkModelName(name), path: file, ...(await checkModelFile(file, this.checkOptions)) };
  }

  async list(): Promise<{ models: LibraryModel[]; broken: BrokenModel[] }> {
    let names: string[];
    try {
      names = fs
        .readdirSync(this.dir)
        .filter((n) => NAME.test(n))
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { models: [], broken: [] };
      throw new BulkheadError('IO_ERROR', `cannot read the model library ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    const models: LibraryModel[] = [];
    const broken: BrokenModel[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      try {
        models.push({ name, path: file, ...(await checkModelFile(file, this.checkOptions)) });
      } catch (err) {
        const e = err as BulkheadError;
        broken.push({ name, path: file, error: { code: e.code ?? 'MODEL_INVALID', message: e.message } });
      }
    }
    return { models, broken };
  }

  /**
   * Copies a checked GGUF into the library under `name` (its file name by default). The file is
   * checked before a byte is copied, and lands whole or not at all (copy, then rename).
   */
  async addFile(source: string, nameInput?: string): Promise<LibraryModel> {
    const name = checkModelName(nameInput ?? path.basename(source));
    await checkModelFile(source, this.checkOptions);
    return this.#place(name, (tmp) => fs.copyFileSync(source, tmp, fs.constants.COPYFILE_EXCL));
  }

  /** Moves a finished download into the library (same rules as addFile). */
  async adopt(file: string, nameInput: string): Promise<LibraryModel> {
    const name = checkModelName(nameInput);
    await checkModelFile(file, this.checkOptions);
    return this.#place(name, (tmp) => fs.renameSync(file, tmp));
  }

  async #place(name: string, put: (tmp: string) => void): Promise<LibraryModel> {
    this.ensureDir();
    const target = path.join(this.dir, name);
    if (fs.existsSync(target)) throw new BulkheadError('FILE_EXISTS', `the library already has a model named "${name}"; remove it first or choose --name`);
    const tmp = path.join(this.dir, `.incoming-${crypto.randomBytes(8).toString('hex')}`);
    try {
      put(tmp);
      fs.chmodSync(tmp, 0o600);
      fs.linkSync(tmp, target); // fails if the name appeared meanwhile: never overwrites
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BulkheadError('FILE_EXISTS', `the library already has a model named "${name}"`);
      throw new BulkheadError('IO_ERROR', `cannot add "${name}" to the library: ${(err as Error).message}`, { cause: err });
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    fsyncDir(this.dir);
    return this.get(name);
  }

  remove(nameInput: string): { name: string; freedBytes: number } {
    const file = this.pathOf(nameInput);
    const freedBytes = fs.statSync(file).size;
    fs.rmSync(file);
    fsyncDir(this.dir);
    return { name: checkModelName(nameInput), freedBytes };
  }

  /** The sha256 of a model file, for the ledger: which exact weights answered. */
  static async fileHash(file: string): Promise<string> {
    const hash = crypto.createHash('sha256');
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
}
