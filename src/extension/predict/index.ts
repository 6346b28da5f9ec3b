import type { Host } from '../host';

export function activatePredict(host: Host): void {
  void host;
}
