import { InvalidRequest } from "@ripen/core";
import { checkUserUrl, type UrlPolicy, UrlRefused } from "@ripen/net";

/**
 * The URLs of a create that Ripen or its providers will call or fetch, each with the field that
 * names it: `callback_url`, and every top-level input field named `…_url` or `…_urls` (today
 * `image_url` and `image_urls`; a model adding `mask_url` is covered without a change here).
 */
function userUrlsOf(
  callbackUrl: unknown,
  input: unknown,
  callbackField: string,
): [field: string, url: unknown][] {
  const urls: [string, unknown][] = [[callbackField, callbackUrl]];
  if (input === null || typeof input !== "object") return urls;
  for (const [name, value] of Object.entries(input)) {
    if (name.endsWith("_url")) urls.push([`input.${name}`, value]);
    else if (name.endsWith("_urls") && Array.isArray(value)) {
      for (const [i, url] of value.entries()) urls.push([`input.${name}.${i}`, url]);
    }
  }
  return urls;
}

const isHttpUrl = (value: string) =>
  URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

/**
 * The submit-time half of the SSRF guard: a user URL whose host is a refused IP literal (in any
 * spelling) or `localhost` is a 400 naming the field. A host name passes: it is resolved, and
 * every address checked, when a connection is made (`createUserUrlFetch`). Values that are not
 * http(s) URLs are left to the model's schema, which names what is wrong with them.
 * `callbackField` is what the door calls the callback URL (revid and kie say `callBackUrl`).
 */
export function checkCreateUrls(
  callbackUrl: unknown,
  input: unknown,
  policy: UrlPolicy,
  callbackField = "callback_url",
): void {
  for (const [field, url] of userUrlsOf(callbackUrl, input, callbackField)) {
    if (typeof url !== "string" || !isHttpUrl(url)) continue;
    try {
      checkUserUrl(url, policy);
    } catch (error) {
      if (!(error instanceof UrlRefused)) throw error;
      throw new InvalidRequest(
        `'${field}' is not allowed: its host ${error.target} is ${error.reason}. Ripen calls and fetches public addresses only.`,
        field,
      );
    }
  }
}
