import { locale } from "./i18n.js";

// JSON over fetch, same origin, with the session cookie. Never throws on an HTTP error:
// returns {ok, status, data}; a network failure gives status 0.
export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { "Accept-Language": locale() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(path, init);
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch { data = null; }
    }
    return { ok: response.ok, status: response.status, data };
  } catch {
    return { ok: false, status: 0, data: null };
  }
}

export function errorMessage(result, fallback) {
  return (result.data && result.data.error && result.data.error.message) || fallback;
}
