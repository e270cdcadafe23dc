import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";

const client = new S3Client({
  region: "us-west-2",
  credentials: {
    accessKeyId: "AKIARH4WGP5T6PM37TXV",
    secretAccessKey: "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",
  },
});

export async function upload(key, body) {
  return client.send(new PutObjectCommand({ Bucket: "assets", Key: key, Body: body }));
}
