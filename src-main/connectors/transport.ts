import { spawn, type ChildProcess } from 'node:child_process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { LaunchSpec } from './sandbox.js';

// The SDK's stdio transport, rebuilt for a process we must be able to kill as a whole: it starts
// in its own process group (detached), its output is counted and capped, its stderr is kept in a
// small ring (never logged: it may carry tenant content), and close() kills the group.

const STDERR_KEEP = 16 * 1024;
const live = new Set<GroupTransport>();
let exitHook = false;

/** Why a connector process was stopped by us, for the caller's report. */
export type StopReason = 'output_cap' | 'message_cap' | 'closed' | 'exited' | 'spawn_failed';

export class GroupTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #child: ChildProcess | null = null;
  #buffer: ReadBuffer;
  #outputBytes = 0;
  #stderr = '';
  #stopped: StopReason | null = null;
  #exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly spec: LaunchSpec,
    private readonly caps: { outputBytes: number; messageBytes: number },
  ) {
    this.#buffer = new ReadBuffer({ maxBufferSize: caps.messageBytes });
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  get stopReason(): StopReason | null {
    return this.#stopped;
  }

  get stderrTail(): string {
    return this.#stderr;
  }

  async start(): Promise<void> {
    if (!exitHook) {
      exitHook = true;
      // The app quits: no connector outlives it.
      process.once('exit', () => {
        for (const t of live) t.killNow('closed');
      });
    }
    await new Promise<void>((resolve, reject) => {
      const child = spawn(this.spec.command, this.spec.args, {
        env: this.spec.env,
        cwd: this.spec.cwd,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      this.#child = child;
      live.add(this);
      this.#exited = new Promise((done) => child.once('close', () => done()));
      child.once('error', (err) => {
        this.#stopped ??= 'spawn_failed';
        live.delete(this);
        reject(err);
        this.onerror?.(err);
      });
      child.once('spawn', () => resolve());
      child.once('exit', () => {
        live.delete(this);
        this.#stopped ??= 'exited';
        this.killNow(this.#stopped); // whatever it left behind in its group goes too
        this.onclose?.();
      });
      child.stdin!.on('error', (err) => this.onerror?.(err));
      child.stdout!.on('data', (chunk: Buffer) => this.#onData(chunk));
      child.stderr!.on('data', (chunk: Buffer) => {
        this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
      });
    });
  }

  #onData(chunk: Buffer): void {
    this.#outputBytes += chunk.length;
    if (this.#outputBytes > this.caps.outputBytes) {
      this.killNow('output_cap');
      this.onerror?.(new Error(`the connector wrote more than ${this.caps.outputBytes} bytes and was stopped`));
      return;
    }
    try {
      this.#buffer.append(chunk);
    } catch {
      this.killNow('message_cap');
      this.onerror?.(new Error(`the connector sent a message larger than ${this.caps.messageBytes} bytes and was stopped`));
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.#buffer.readMessage();
      } catch (err) {
        this.onerror?.(err as Error);
        continue;
      }
      if (message === null) break;
      this.onmessage?.(message);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || this.#stopped) throw new Error('the connector is not running');
    await new Promise<void>((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Kills the whole process group at once (synchronous: a tenant that closes does not wait). */
  killNow(reason: StopReason): void {
    this.#stopped ??= reason;
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    live.delete(this);
  }

  async close(): Promise<void> {
    this.killNow('closed');
    this.#buffer.clear();
    await this.#exited;
  }
}
