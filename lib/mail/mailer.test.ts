import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { makeTempDir, testConfig } from "@/test/store";
import { startSmtpServer } from "@/test/smtp-server";
import { mailEnabled, sendMail } from "./mailer";

describe("mailer", () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    setConfigForTests(undefined);
    await smtp.close();
  });

  it("sends nothing and says so when ENCLAVE_SMTP_URL is unset", async () => {
    setConfigForTests(testConfig(makeTempDir()));
    expect(mailEnabled()).toBe(false);
    expect(await sendMail({ to: "a@example.com", subject: "unsent", text: "x" })).toBe(false);
    expect(smtp.received).toHaveLength(0);
  });

  it("delivers a plain-text message over SMTP from ENCLAVE_MAIL_FROM", async () => {
    setConfigForTests(testConfig(makeTempDir(), { ENCLAVE_SMTP_URL: smtp.url, ENCLAVE_MAIL_FROM: "Enclave <ops@example.com>" }));
    expect(await sendMail({ to: "b@example.com", subject: "hello", text: "line one\nline two" })).toBe(true);
    const mail = await smtp.waitFor((m) => m.subject === "hello");
    expect(mail).toMatchObject({ to: ["b@example.com"], from: "ops@example.com" });
    expect(mail.text).toContain("line two");
  });

  it("answers false, without throwing, when the relay is unreachable", async () => {
    setConfigForTests(testConfig(makeTempDir(), { ENCLAVE_SMTP_URL: "smtp://127.0.0.1:1" }));
    expect(await sendMail({ to: "c@example.com", subject: "lost", text: "x" })).toBe(false);
  });
});
