import type { Host } from '../host';

export function activateCompare(host: Host): void {
  void host;
}
