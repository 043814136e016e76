import { useEffect } from 'react';
import { lock } from '../state/session.js';

const ACTIVITY = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

/** Locks the vault after `seconds` without input; every store is wiped with it. */
export function useIdleLock(seconds: number, active: boolean): void {
  useEffect(() => {
    if (!active || seconds <= 0) return;
    let timer = window.setTimeout(fire, seconds * 1000);
    function fire(): void {
      void lock();
    }
    function reset(): void {
      window.clearTimeout(timer);
      timer = window.setTimeout(fire, seconds * 1000);
    }
    for (const e of ACTIVITY) window.addEventListener(e, reset, { passive: true });
    return () => {
      window.clearTimeout(timer);
      for (const e of ACTIVITY) window.removeEventListener(e, reset);
    };
  }, [seconds, active]);
}
