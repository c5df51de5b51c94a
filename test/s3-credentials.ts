/** The one key pair s3rver knows (its built-in account), used by the test S3 server and its clients. */
export const S3_TEST_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;
export const S3_TEST_REGION = "us-east-1";
