/**
 * One unary RPC, independent of the transport that carries it: how its request is read, how its
 * response is written, and what it does. grpc-js serves it (src/grpc/grpc-server.ts), and so does
 * the fast path straight off the HTTP/2 stream (src/grpc/unary-fast-path.ts); both give the
 * caller the same answer.
 */
export interface UnaryMethod<Request, Response> {
  /** The method's name in its service, e.g. FailActivityTask. */
  readonly name: string;
  /** Never throws: a request that cannot be read is decoded into something `handle` refuses. */
  readonly decode: (message: Buffer) => Request;
  readonly encode: (response: Response) => Buffer;
  /** Resolves with the response, or rejects with what `toCallStatus` maps onto a status. */
  readonly handle: (request: Request) => Promise<Response>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of methods of different types
export type AnyUnaryMethod = UnaryMethod<any, any>;
