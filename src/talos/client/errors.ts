import { type ServiceError, status } from '@grpc/grpc-js';
import { ActionError } from '../../core/errors.ts';

/** A Talos API failure, naming the node it came from. */
export class TalosError extends ActionError {
  override name = 'TalosError';
  readonly node: string;
  readonly code: number | undefined;
  constructor(node: string, message: string, hint?: string, code?: number, cause?: unknown) {
    super(`Talos node ${node}: ${message}`, hint, { cause });
    this.node = node;
    this.code = code;
  }
}

/** Nothing answers on the Talos API port. */
export class TalosUnreachableError extends TalosError {
  override name = 'TalosUnreachableError';
}

/** The node answers, but with a certificate our CA did not sign: another cluster's node. */
export class TalosForeignCaError extends TalosError {
  override name = 'TalosForeignCaError';
}

/** The node wants a client certificate: it is configured, not in maintenance mode. */
export class TalosConfiguredError extends TalosError {
  override name = 'TalosConfiguredError';
}

const UNREACHABLE = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|No connection established|Deadline exceeded|Failed to connect|connection refused|socket hang up|other side closed/i;
const FOREIGN_CA = /unable to verify|self[- ]signed certificate|certificate signature failure|unable to get (local )?issuer certificate|CERT_|certificate has expired|Hostname\/IP does not match/i;
const CLIENT_CERT_REQUIRED = /certificate required|alert number 116|handshake failure|alert bad certificate|tlsv13 alert|sslv3 alert/i;

export function isUnavailable(error: unknown): boolean {
  return (error as ServiceError)?.code === status.UNAVAILABLE || (error as ServiceError)?.code === status.DEADLINE_EXCEEDED;
}

/** Turns a gRPC failure into an error that says what is wrong with the node and what to check. */
export function talosError(node: string, error: unknown, mode: 'maintenance' | 'configured'): TalosError {
  if (error instanceof TalosError) return error;
  const e = error as ServiceError;
  const text = `${e?.details ?? ''} ${e?.message ?? ''}`;
  if (e?.code === status.UNAVAILABLE || e?.code === status.DEADLINE_EXCEEDED) {
    if (mode === 'configured' && FOREIGN_CA.test(text))
      return new TalosForeignCaError(
        node,
        'answers with a certificate this cluster\'s Talos CA did not sign',
        'it belongs to another cluster (or was reinstalled with other secrets); reset it to maintenance mode or take it out of the inventory',
        e.code,
        error,
      );
    if (mode === 'maintenance' && CLIENT_CERT_REQUIRED.test(text))
      return new TalosConfiguredError(node, 'is already configured (it asks for a client certificate)', undefined, e.code, error);
    if (UNREACHABLE.test(text))
      return new TalosUnreachableError(
        node,
        `cannot reach the Talos API on ${node}:50000 (${(e.details || e.message || '').split('\n')[0]})`,
        'is it booted from Talos media and in maintenance mode, and is port 50000 reachable from here?',
        e.code,
        error,
      );
  }
  if (e?.code === status.UNAUTHENTICATED || e?.code === status.PERMISSION_DENIED)
    return new TalosError(node, `refused: ${e.details}`, 'the talosconfig client certificate lacks the os:admin role or is not from this cluster', e.code, error);
  return new TalosError(node, e?.details || e?.message || String(error), undefined, e?.code, error);
}
