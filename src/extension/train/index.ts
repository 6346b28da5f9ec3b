import type { Host } from '../host';

export function activateTrain(host: Host): void {
  void host;
}
