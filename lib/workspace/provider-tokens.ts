import { SECRET_PREFIXES } from "../crypto/secrets";
import { exact, hasLetterAndDigit, infixDetector, keyed, opensWithDiscordId, regexDetector, startBehind, token, TOKEN_END, type KeyedDetector } from "./secret-detectors";

const enclaveKindInfixes = Object.values(SECRET_PREFIXES)
  .map((prefix) => prefix.slice("enc_".length))
  .filter(Boolean)
  .join("|");

/** Provider tokens, most specific first: where prefixes overlap the longer one comes first. */
export const providerTokens: KeyedDetector[] = [
  // Every kind of Enclave secret (lib/crypto/secrets.ts): `enc_` and what follows it in the kind's prefix.
  exact("enclave_token", ["enc_"], `(?:${enclaveKindInfixes})?[A-Za-z0-9_-]{43}[A-Za-z0-9]{6}`),
  // AI providers
  token("anthropic_key", ["sk-ant-"], "[A-Za-z0-9_-]{20,512}"),
  exact("openrouter_key", ["sk-or-v1-"], "[a-f0-9]{64}"),
  exact("groq_key", ["gsk_"], "[A-Za-z0-9]{52}"),
  exact("xai_key", ["xai-"], "[A-Za-z0-9]{80}"),
  exact("perplexity_key", ["pplx-"], "[A-Za-z0-9]{48}"),
  exact("huggingface_token", ["hf_", "api_org_"], "[A-Za-z0-9]{34}"),
  exact("replicate_token", ["r8_"], "[A-Za-z0-9]{37}"),
  exact("langsmith_key", ["lsv2_pt_", "lsv2_sk_"], "[a-f0-9]{32}_[a-f0-9]{10}"),
  // Code hosts, registries, CI
  token("github_token", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], "[A-Za-z0-9]{36,255}"),
  token("github_token", ["github_pat_"], "[A-Za-z0-9_]{36,255}"),
  token("gitlab_token", ["pat", "ptt", "rt", "dt", "oas", "cbt", "ft", "imt", "agent", "soat", "ffct"].map((type) => `gl${type}-`), "[A-Za-z0-9_-]{20,255}"),
  exact("npm_token", ["npm_"], "[A-Za-z0-9]{36}"),
  token("pypi_token", ["pypi-AgE"], "[A-Za-z0-9_-]{50,1024}"),
  exact("rubygems_key", ["rubygems_"], "[a-f0-9]{48}"),
  exact("clojars_token", ["CLOJARS_"], "[A-Za-z0-9]{60}"),
  token("docker_token", ["dckr_pat_", "dckr_oat_"], "[A-Za-z0-9_-]{27,128}"),
  exact("jfrog_token", ["AKCp"], "[A-Za-z0-9]{69}"),
  exact("sourcegraph_token", ["sgp_"], "(?:[a-f0-9]{16}_|local_)?[a-f0-9]{40}"),
  exact("buildkite_token", ["bkua_"], "[a-f0-9]{40}"),
  exact("circleci_token", ["CCIPAT_"], "[A-Za-z0-9]{22}_[a-f0-9]{40}"),
  exact("postman_key", ["PMAK-"], "[a-f0-9]{24}-[a-f0-9]{34}"),
  exact("prefect_key", ["pnu_"], "[A-Za-z0-9]{36}"),
  // Cloud and infrastructure
  exact("aws_access_key_id", ["AKIA", "ASIA", "ABIA", "ACCA"], "[A-Z0-9]{16}"),
  exact("google_api_key", ["AIza"], "[A-Za-z0-9_-]{35}"),
  exact("google_oauth_secret", ["GOCSPX-"], "[A-Za-z0-9_-]{28}"),
  token("google_oauth_token", ["ya29."], "[A-Za-z0-9_-]{30,2048}"),
  infixDetector("azure_client_secret", {
    before: "[A-Za-z0-9_~.]{3}[0-9]",
    infix: "Q~",
    after: "[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~-])",
    start: startBehind("", "A-Za-z0-9_~.-"),
    key: "Q~",
  }),
  exact("alibaba_key", ["LTAI"], "[A-Za-z0-9]{12,20}"),
  exact("digitalocean_token", ["dop_v1_", "doo_v1_", "dor_v1_"], "[a-f0-9]{64}"),
  exact("heroku_key", ["HRKU-AA"], "[A-Za-z0-9_-]{58}"),
  token("vault_token", ["hvs.", "hvb.", "hvr."], "[A-Za-z0-9_-]{24,512}"),
  infixDetector("terraform_token", { before: "[A-Za-z0-9]{14}", infix: "[.]atlasv1[.]", after: `[A-Za-z0-9_=-]{60,70}${TOKEN_END}`, key: ".atlasv1." }),
  exact("doppler_token", ["pt", "st", "sa", "ct", "scim", "audit"].map((type) => `dp.${type}.`), "[A-Za-z0-9]{40,44}"),
  exact("pulumi_token", ["pul-"], "[a-f0-9]{40}"),
  exact("databricks_token", ["dapi"], "[a-f0-9]{32}(?:-[0-9])?"),
  exact("supabase_key", ["sbp_"], "(?:oauth_)?[a-f0-9]{40}"),
  token("supabase_key", ["sb_secret_"], "[A-Za-z0-9_-]{20,128}"),
  token("planetscale_token", ["pscale_tkn_", "pscale_pw_", "pscale_oauth_"], "[A-Za-z0-9_-]{32,64}"),
  // Observability
  token("grafana_token", ["glc_"], "[A-Za-z0-9+/]{32,512}={0,2}"),
  exact("grafana_token", ["glsa_"], "[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
  token("grafana_token", ["eyJrIjoi"], "[A-Za-z0-9+/]{32,512}={0,2}"),
  token("sentry_token", ["sntrys_", "sntryu_"], "[A-Za-z0-9+/=_-]{40,2048}"),
  exact("newrelic_key", ["NRAK-"], "[A-Z0-9]{27}"),
  token("newrelic_key", ["NRAA-", "NRII-", "NRIQ-", "NRSP-"], "[A-Za-z0-9_-]{20,64}"),
  infixDetector("newrelic_key", { before: "[a-f0-9]{36}", infix: "NRAL", after: TOKEN_END, key: "NRAL" }),
  // Collaboration and messaging
  token("slack_token", ["xoxa-", "xoxb-", "xoxe-", "xoxo-", "xoxp-", "xoxr-", "xoxs-", "xapp-"], "[A-Za-z0-9-]{10,512}"),
  keyed(
    ["https://hooks.slack.com/"],
    regexDetector("slack_token", /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{10,512}/g),
  ),
  keyed(
    ["discord.com/api", "discordapp.com/api"],
    regexDetector("discord_webhook", /https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/api(?:\/v[0-9]{1,2})?\/webhooks\/[0-9]{17,20}\/[A-Za-z0-9_-]{60,80}/g),
  ),
  infixDetector(
    "discord_token",
    { before: "[MNO][A-Za-z0-9_-]{23,27}", infix: "[.]", after: `[A-Za-z0-9_-]{6}[.][A-Za-z0-9_-]{27,40}${TOKEN_END}` },
    { accept: opensWithDiscordId },
  ),
  keyed(
    [".webhook.office.com/webhookb2/"],
    regexDetector("teams_webhook", /https:\/\/[a-z0-9-]{1,64}\.webhook\.office\.com\/webhookb2\/[A-Za-z0-9@/-]{20,512}/g),
  ),
  // `bot123:AA…` in an API URL is the one place a letter may touch the token.
  infixDetector("telegram_bot_token", {
    before: "[0-9]{8,10}",
    infix: ":AA",
    after: `[A-Za-z0-9_-]{33}${TOKEN_END}`,
    start: `(?:(?<=bot)|${startBehind("", "A-Za-z0-9_:-")})`,
    key: ":AA",
  }),
  token("atlassian_token", ["ATATT3"], "[A-Za-z0-9_=-]{100,400}"),
  exact("linear_key", ["lin_api_"], "[A-Za-z0-9]{40}"),
  exact("linear_key", ["lin_oauth_"], "[a-f0-9]{64}"),
  exact("notion_token", ["ntn_"], "[0-9]{11}[A-Za-z0-9]{35}"),
  exact("notion_token", ["secret_"], "[A-Za-z0-9]{43}", { accept: hasLetterAndDigit }),
  token("figma_token", ["figd_"], "[A-Za-z0-9_-]{32,128}"),
  exact("airtable_token", ["pat"], "[A-Za-z0-9]{14}[.][a-f0-9]{64}"),
  exact("contentful_token", ["CFPAT-"], "[A-Za-z0-9_-]{43}"),
  token("dropbox_token", ["sl."], "(?:u[.])?[A-Za-z0-9_-]{130,2048}"),
  token("mapbox_token", ["sk.eyJ"], "[A-Za-z0-9_-]{10,1024}[.][A-Za-z0-9_-]{20,128}"),
  // Payments and commerce
  token("stripe_key", ["sk_live_", "sk_test_", "pk_live_", "pk_test_", "rk_live_", "rk_test_", "whsec_"], "[A-Za-z0-9]{16,255}"),
  token("razorpay_key", ["rzp_live_", "rzp_test_"], "[A-Za-z0-9]{14,64}"),
  exact("square_token", ["sq0atp-"], "[A-Za-z0-9_-]{22}"),
  exact("square_token", ["sq0csp-"], "[A-Za-z0-9_-]{43}"),
  exact("shopify_token", ["shpat_", "shpca_", "shppa_", "shpss_"], "[a-fA-F0-9]{32}"),
  // Email and SMS
  exact("twilio_key", ["SK"], "[a-fA-F0-9]{32}"),
  exact("sendgrid_key", ["SG."], "[A-Za-z0-9_-]{22}[.][A-Za-z0-9_-]{43}"),
  exact("mailgun_key", ["key-"], "[a-f0-9]{32}"),
  infixDetector("mailgun_key", { before: "[a-f0-9]{32}", infix: "-[a-f0-9]{8}-", after: `[a-f0-9]{8}${TOKEN_END}` }),
  infixDetector("mailchimp_key", { before: "[a-f0-9]{32}", infix: "-us", after: `[0-9]{1,2}${TOKEN_END}`, key: "-us" }),
  // Keys of tools
  exact("age_secret_key", ["AGE-SECRET-KEY-1"], "[02-9AC-HJ-NP-Z]{58}"),
  token("jwt", ["eyJ"], "[A-Za-z0-9_-]{5,4096}[.]eyJ[A-Za-z0-9_-]{5,16384}[.][A-Za-z0-9_-]{16,4096}"),
  // After every sk-… above. A body without digits is a word (sk-learn-…).
  token("openai_key", ["sk-"], "[A-Za-z0-9_-]{20,512}", { accept: hasLetterAndDigit }),
];
