// Every store that holds anything of a tenant registers here; a switch or lock resets them all.
const resets: (() => void)[] = [];

export function onTenantReset(reset: () => void): void {
  resets.push(reset);
}

export function resetTenantStores(): void {
  for (const reset of resets) reset();
}
