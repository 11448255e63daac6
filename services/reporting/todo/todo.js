// The staff to-do page (待办事项): reads GET /reporting/v1/worklist with the
// staff member's token and lists, per village, what needs doing today. No
// framework, no build step; the dashboard's conventions (dashboard.js).
//
// The token comes from the URL fragment (#token=wx_..., never sent to the
// server) or the login box, and is kept in sessionStorage under the
// dashboard's key, so one login serves both pages. `#region=CODE` narrows the
// list to a town or a village inside the scope.
//
// Every count carries data-figure="<path>" ("totals.gaps",
// "villages.610326100201.overdue_cases.total"); every item is a link
// (a[data-item]) to its JSON. The browser test compares both with the JSON.
// body[data-state] is "loading", "ready", "login" or "error".

const body = document.body;
const API = body.dataset.api;
const TOKEN_KEY = "warnex.dashboard.token";
const SECTIONS = [
  ["overdue_cases", "逾期案件"],
  ["due_soon_cases", "即将到期案件"],
  ["gaps", "帮扶缺口"],
  ["pending_requests", "待审批申请"],
  ["overdue_problems", "逾期未整改问题"],
];
const $ = (id) => document.getElementById(id);

const state = { token: sessionStorage.getItem(TOKEN_KEY), labels: null, run: 0 };

function formatInt(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function fragment() {
  return new URLSearchParams(location.hash.slice(1));
}

function takeTokenFromFragment() {
  const params = fragment();
  const token = params.get("token");
  if (!token) return;
  params.delete("token");
  state.token = token.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}

class ApiError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

async function getJson(url, withToken) {
  let response;
  try {
    const headers = { Accept: "application/json" };
    if (withToken) headers.Authorization = `Bearer ${state.token}`;
    response = await fetch(url, { headers, cache: "no-store" });
  } catch {
    throw new ApiError(0);
  }
  if (!response.ok) throw new ApiError(response.status);
  return response.json();
}

function messageFor(error) {
  switch (error.status) {
    case 0:
      return "无法连接服务，请检查网络后刷新页面。";
    case 401:
      return "访问令牌无效、已过期或已被撤销，请重新输入令牌。";
    case 403:
      return "待办事项仅向工作人员显示（查看者账号请使用统计看板）。";
    case 404:
      return "该区域不存在，或不在您的辖区内。";
    case 422:
      return "区域代码格式不正确（应为12位行政区划代码）。";
    default:
      return `服务暂时无法应答（HTTP ${error.status}），请稍后重试。`;
  }
}

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
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(messageFor(error));
    return;
  }
  body.dataset.state = "error";
  $("board").hidden = true;
  showMessage(error instanceof ApiError ? messageFor(error) : `页面出错：${error.message}`);
  if (!(error instanceof ApiError)) console.error(error);
}

// ---- one item of each section: its id (a link to its JSON), what, when ------------

// The last 8 hex digits: enough to tell items apart on one page (the link has the whole id).
const short = (id) => id.slice(-8);

function describe(section, item) {
  const L = state.labels;
  switch (section) {
    case "overdue_cases":
      return [`案件 ${short(item.case_id)}`, L.case_sources[item.source] ?? item.source, [`逾期 ${-item.days_left} 天`, true]];
    case "due_soon_cases":
      return [`案件 ${short(item.case_id)}`, L.case_sources[item.source] ?? item.source, [item.days_left === 0 ? `今日到期（${item.deadline}）` : `剩 ${item.days_left} 天（${item.deadline}）`, false]];
    case "gaps":
      return [
        item.object_id ? `对象 ${short(item.object_id)}` : "脱贫户",
        L.gap_kinds[item.kind] ?? item.kind,
        [`自 ${item.since}`, false],
      ];
    case "pending_requests":
      return [`申请 ${short(item.request_id)}`, L.request_kinds[item.kind] ?? item.kind, [`${item.requested_on} 提出`, false]];
    default:
      return [`问题 ${short(item.problem_id)}`, L.problem_types[item.type] ?? item.type, [`逾期 ${item.days_overdue} 天`, true]];
  }
}

function sectionOf(village, section, title) {
  const { total, items } = village[section];
  const key = `villages.${village.region_code}.${section}`;
  const list = el(
    "ul",
    { class: "items" },
    ...items.map((item, i) => {
      const [id, what, [when, bad]] = describe(section, item);
      return el(
        "li",
        {},
        el("a", { class: "id", href: item.href, "data-item": `${key}.${i}`, target: "_blank", rel: "noopener", title: item.href, text: id }),
        el("span", { class: "what", text: what }),
        el("span", { class: bad ? "when bad" : "when", text: when }),
      );
    }),
  );
  const more = total > items.length ? el("p", { class: "more", text: `另有 ${formatInt(total - items.length)} 项未列出` }) : "";
  return el(
    "div",
    { class: `section ${section}` },
    el("h4", {}, el("span", { text: title }), el("span", { class: "n", "data-figure": `${key}.total`, text: formatInt(total) })),
    list,
    more,
  );
}

function villageCard(village) {
  const sections = SECTIONS.filter(([section]) => village[section].total > 0);
  return el(
    "section",
    { class: "panel village", "data-village": village.region_code },
    el("h3", {}, el("span", { text: village.region_name ?? village.region_code }), el("span", { class: "code", text: village.region_code })),
    ...sections.map(([section, title]) => sectionOf(village, section, title)),
  );
}

async function render() {
  const run = ++state.run;
  if (!state.token) {
    showLogin();
    return;
  }
  body.dataset.state = "loading";
  $("login").hidden = true;
  $("logout").hidden = false;
  try {
    state.labels ??= await getJson(body.dataset.labels, false);
    const url = new URL(`${API}/worklist`, location.origin);
    const region = fragment().get("region");
    if (region) url.searchParams.set("region", region);
    const todo = await getJson(url, true);
    if (run !== state.run) return;
    showMessage("");
    for (const node of document.querySelectorAll(".kpis [data-figure]")) {
      node.textContent = formatInt(todo.totals[node.dataset.figure.split(".")[1]]);
    }
    $("villages").replaceChildren(...todo.villages.map(villageCard));
    $("nothing").hidden = todo.villages.length > 0;
    $("region-name").textContent = todo.region_name ?? todo.region;
    document.title = `${todo.region_name ?? todo.region} · 待办事项`;
    $("today").textContent = `截至 ${todo.today}`;
    $("limit").textContent = String(todo.limit);
    $("board").hidden = false;
    $("board").dataset.region = todo.region;
    body.dataset.state = "ready";
  } catch (error) {
    if (run === state.run) showError(error);
  }
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("login").elements.token.value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("login").reset();
  render();
});

$("logout").addEventListener("click", () => {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  history.pushState(null, "", location.pathname);
  showLogin("已退出登录。");
});

window.addEventListener("hashchange", () => {
  takeTokenFromFragment();
  render();
});

takeTokenFromFragment();
render();
