// remote-ptr -- addresses in the tracee's address space, kept apart from
// plain numbers (file offsets, sizes, counts) by the type checker.
//
// x86-64 user addresses are below 2^47, so they are exact as JS numbers.

export type RemotePtr = number & { readonly __remote: unique symbol };

export function remotePtr(address: number): RemotePtr {
  return address as RemotePtr;
}

export function formatPtr(address: number): string {
  return `0x${address.toString(16)}`;
}
