import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What the request log line needs to know about a request: filled in by the server wrapper
 * (id, ip) and by `require*` helpers as they learn who is asking and for which workspace.
 * The storage lives on globalThis so the custom server and Next's bundle share one instance.
 */
export type RequestContext = {
  requestId: string;
  /** The client's address (lib/http/client-address.ts). */
  ip: string;
  /** The socket's other end: the reverse proxy's address behind one, else the client's. */
  peer?: string;
  userAgent?: string;
  actor?: string;
  workspaceId?: string;
};

const globalForContext = globalThis as unknown as { enclaveRequestContext?: AsyncLocalStorage<RequestContext> };
const storage = (globalForContext.enclaveRequestContext ??= new AsyncLocalStorage<RequestContext>());

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function getRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Records who is acting, for the request's log line (a no-op outside a request). */
export function noteActor(actor: string, workspaceId?: string): void {
  const context = storage.getStore();
  if (!context) return;
  context.actor = actor;
  if (workspaceId) context.workspaceId = workspaceId;
}
