import type { TalosClient } from '../../talos/client/client.ts';

/**
 * Talos clients kept open from one refresh to the next, so a site costs one TLS session per node
 * rather than one per node per refresh. A client whose call failed is closed and made anew the
 * next time; the clients of nodes no longer listed are closed.
 */
export class TalosClients {
  private readonly open = new Map<string, TalosClient>();

  async use<T>(key: string, make: () => TalosClient, fn: (client: TalosClient) => Promise<T>): Promise<T> {
    let client = this.open.get(key);
    if (!client) {
      client = make();
      this.open.set(key, client);
    }
    try {
      return await fn(client);
    } catch (error) {
      this.drop(key);
      throw error;
    }
  }

  /** Closes every client whose key is not among `keys`. */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of [...this.open.keys()]) if (!keys.has(key)) this.drop(key);
  }

  close(): void {
    this.keepOnly(new Set());
  }

  private drop(key: string): void {
    this.open.get(key)?.close();
    this.open.delete(key);
  }
}
