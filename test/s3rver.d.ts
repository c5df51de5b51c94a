// s3rver 3.7 ships no types: the part of its API test/s3-server.ts uses.
declare module "s3rver" {
  type Options = { address?: string; port?: number; silent?: boolean; directory?: string; resetOnClose?: boolean; allowMismatchedSignatures?: boolean };
  export default class S3rver {
    constructor(options?: Options);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
