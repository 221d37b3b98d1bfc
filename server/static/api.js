// Every call to the Jobmon API goes through request(), so that credentials are added in
// one place: authHeaders(). A server on loopback needs none from its own user; a shared
// server wants the same API token as the CLI (`jobmon token create`), which the page asks
// for once and keeps in this browser's local storage.

export const API_BASE = "/api/v1";
const TOKEN_KEY = "jobmon.token";

export function authHeaders() {
  const token = window.localStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function setToken(token) {
  if (token) window.localStorage.setItem(TOKEN_KEY, token);
  else window.localStorage.removeItem(TOKEN_KEY);
}

export function hasToken() {
  return Boolean(window.localStorage.getItem(TOKEN_KEY));
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function request(method, path, { query, body, signal } = {}) {
  const url = new URL(API_BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") {
      url.searchParams.set(key, String(value));
    }
  }
  const headers = { Accept: "application/json", ...authHeaders() };
  // every write is JSON, with a body or without: a local server refuses other writes, as
  // those are what a page on another site could send
  if (body !== undefined || method !== "GET") headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "unreachable", "The Jobmon server cannot be reached.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    if (response.status === 401) {  // the page asks for a token (live.js)
      window.dispatchEvent(new CustomEvent("jobmon:unauthorized",
                                           { detail: error ? error.message : "" }));
    }
    throw new ApiError(response.status, error ? error.code : "http_error",
                       error ? error.message : `HTTP ${response.status}`);
  }
  return data;
}

export const get = (path, query, options) => request("GET", path, { query, ...options });
export const post = (path, body, options) => request("POST", path, { body, ...options });
