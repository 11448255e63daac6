// The shell the reporting pages share (the dashboard and the to-do page): the
// token, the login form, the message line, authorised requests and the error
// texts. Each page's own script imports it and brings its own figures; no
// framework, no build step.
//
// The token comes from the URL fragment (#token=wx_..., never sent to the
// server) or the login box and stays in sessionStorage under one key, so one
// login serves every page of the tab. body[data-state] is "starting",
// "loading", "ready", "login" or "error"; the browser tests wait on it.
//
// A page has #message, #login (a form with a `token` input), #logout and
// #board, and body[data-api] and body[data-labels].

export const body = document.body;
export const $ = (id) => document.getElementById(id);

const API = body.dataset.api;
// The dashboard's key from before the pages shared a shell: a tab logged in then stays logged in.
const TOKEN_KEY = "warnex.dashboard.token";

let token = sessionStorage.getItem(TOKEN_KEY);
let runs = 0; // the latest render; older ones drop their results
let labels = null;
let page = null; // what start() was given

// ---- formatting and DOM helpers ------------------------------------------------

export function formatInt(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    // Through the CSSOM: the Content-Security-Policy refuses style attributes.
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// ---- the fragment and the token ---------------------------------------------------

export function fragment() {
  return new URLSearchParams(location.hash.slice(1));
}

/** Moves a token from the fragment into sessionStorage and out of the address bar. */
function takeTokenFromFragment() {
  const params = fragment();
  const found = params.get("token");
  if (!found) return;
  params.delete("token");
  saveToken(found);
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}

function saveToken(value) {
  token = value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
}

function forgetToken() {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

// ---- requests -------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
  }
}

async function getJson(url, headers) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json", ...headers }, cache: "no-store" });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return response.json();
}

/** GET `API + path` with the token; empty `params` are left out. */
export async function api(path, params = {}) {
  const url = new URL(API + path, location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value) url.searchParams.set(key, value);
  }
  return getJson(url, { Authorization: `Bearer ${token}` });
}

/** The page's error text for `error`: the shared ones, with the page's own for
 * what differs between pages (`texts`: service, forbidden, notFound). */
function messageFor(error, texts) {
  switch (error.status) {
    case 0:
      return `无法连接${texts.service}，请检查网络后刷新页面。`;
    case 401:
      return "访问令牌无效、已过期或已被撤销，请重新输入令牌。";
    case 403:
      return texts.forbidden;
    case 404:
      return texts.notFound;
    case 422:
      return "区域代码格式不正确（应为12位行政区划代码）。";
    default:
      return `${texts.service}暂时无法应答（HTTP ${error.status}），请稍后重试。`;
  }
}

// ---- page states ------------------------------------------------------------------------

function showMessage(text) {
  $("message").textContent = text;
  $("message").hidden = !text;
}

function showLogin(text = "") {
  body.dataset.state = "login";
  showMessage(text);
  $("board").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login").elements.token.focus();
}

function showError(error) {
  if (error.status === 401) {
    forgetToken();
    showLogin(messageFor(error, page.texts));
    return;
  }
  body.dataset.state = "error";
  if (page.hideBoardOnError) $("board").hidden = true;
  showMessage(error instanceof ApiError ? messageFor(error, page.texts) : `页面出错：${error.message}`);
  if (!(error instanceof ApiError)) console.error(error);
}

/** Loads and shows the page, or the login form without a token. `page.load(labels)`
 * fetches what the page needs and returns a function that fills the page; it
 * runs only if no newer render has started meanwhile. */
async function render() {
  const run = ++runs;
  if (!token) {
    showLogin();
    return;
  }
  body.dataset.state = "loading";
  $("login").hidden = true;
  $("logout").hidden = false;
  try {
    labels ??= await getJson(body.dataset.labels, {});
    const fill = await page.load(labels);
    if (run !== runs) return; // a newer render has started
    showMessage("");
    fill();
    $("board").hidden = false;
    body.dataset.state = "ready";
  } catch (error) {
    if (run === runs) showError(error);
  }
}

/**
 * Starts the page: renders now and on every change of the fragment, and wires
 * the login form and the logout button.
 *
 * - load(labels): see render().
 * - texts: {service, forbidden, notFound}, the page's own error texts.
 * - hideBoardOnError: hide what was shown when a render fails (else it stays).
 * - onLogin(), onLogout(): what the page forgets when the viewer changes.
 */
export function start({ load, texts, hideBoardOnError = false, onLogin = () => {}, onLogout = () => {} }) {
  page = { load, texts, hideBoardOnError };
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken($("login").elements.token.value);
    $("login").reset();
    onLogin();
    render();
  });
  $("logout").addEventListener("click", () => {
    forgetToken();
    onLogout();
    history.pushState(null, "", location.pathname);
    showLogin("已退出登录。");
  });
  window.addEventListener("hashchange", () => {
    takeTokenFromFragment();
    render();
  });
  takeTokenFromFragment();
  render();
}
