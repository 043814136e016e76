import { displayName } from '../../src-shared/display-text.js';

// Every document name, source path, upload name and tenant name the console shows goes through
// here: names come from files and users, and a bidi override in one would reorder what is shown.
export function Name({ text }: { text: string }) {
  return <>{displayName(text)}</>;
}

export { displayName };
