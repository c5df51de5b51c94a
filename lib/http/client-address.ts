import { isIP } from "node:net";

/**
 * Where a request came from, as the server sees it: `peer` is the socket's other end (the
 * reverse proxy's address, behind one) and `ip` the client's — the peer itself, or with
 * ENCLAVE_TRUST_PROXY the last X-Forwarded-For entry, the one the proxy in front appended and
 * vouches for (entries before it are whatever the client sent).
 */
export type ClientAddress = { ip: string; peer: string };

export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: boolean): ClientAddress {
  const socket = peer ?? "unknown";
  if (trustProxy) {
    const forwarded = [forwardedFor ?? []].flat().join(",").split(",").map((part) => part.trim()).filter(Boolean);
    const last = forwarded.at(-1);
    if (last) return { ip: last, peer: socket };
  }
  return { ip: socket, peer: socket };
}

/** 127.0.0.0/8, ::1, and IPv4 loopback written as IPv6 (`::ffff:127.0.0.1`, how a dual-stack socket reports it). */
export function isLoopback(address: string): boolean {
  const v4 = address.toLowerCase().replace(/^::ffff:/, "");
  if (isIP(v4) === 4) return v4.startsWith("127.");
  return isIP(address) === 6 && /^(?:0{0,4}:){2,7}0{0,3}1$|^::1$/.test(address.toLowerCase());
}

/**
 * Whether a request was made on this machine: the socket's peer is loopback and so is the
 * client address. Both, so a forged X-Forwarded-For from another host does not pass (its peer
 * is not loopback), nor a remote client relayed by a local proxy (its forwarded address is not).
 */
export const isLocalRequest = (address: Partial<ClientAddress> | undefined): boolean =>
  address?.peer !== undefined && address.ip !== undefined && isLoopback(address.peer) && isLoopback(address.ip);
