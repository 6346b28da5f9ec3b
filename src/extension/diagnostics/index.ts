import type { Host } from '../host';

export async function activateDiagnostics(host: Host): Promise<void> {
  void host;
}
