import { create } from 'zustand';
import type { IsolationReport } from '../../src-shared/contract.js';
import { messageOf, stream, type RunningStream } from '../client.js';
import { onTenantReset } from './reset.js';
import { stillCurrent, useSession } from './session.js';

interface IsolationState {
  running: boolean;
  progress: string[];
  report: IsolationReport | null;
  error: string | null;
}

const initial = (): IsolationState => ({ running: false, progress: [], report: null, error: null });
export const useIsolation = create<IsolationState>()(initial);

let current: RunningStream<IsolationReport> | null = null;
// The report names tenants by opaque id only, but it is shown under one client: a switch forgets it.
onTenantReset(() => {
  current?.stop();
  current = null;
  useIsolation.setState(initial());
});

/** Runs the isolation self-test over the whole vault, collecting its progress lines. */
export async function runIsolationCheck(): Promise<void> {
  if (useIsolation.getState().running) return;
  const generation = useSession.getState().generation;
  useIsolation.setState({ running: true, progress: [], report: null, error: null });
  const run = stream('verify.run', {}, (e) => useIsolation.setState((s) => ({ progress: [...s.progress, e.message] })));
  current = run;
  try {
    const report = await run.result;
    if (stillCurrent(generation)) useIsolation.setState({ report, running: false });
  } catch (err) {
    if (stillCurrent(generation)) useIsolation.setState({ error: messageOf(err), running: false });
  } finally {
    if (current === run) current = null;
  }
}
