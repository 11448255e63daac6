// The reporting dashboard (统计看板): reads the figures from the JSON endpoints
// with the viewer's token and fills the page. No framework, no build step; the
// token, the login form, the requests and the error texts are the shared shell
// (../page.js).
//
// The region shown is `#region=CODE` (default: the viewer's scope); drilling
// down pushes a new fragment, so the browser's back button goes back up.
//
// Every number carries data-figure="<path>" (e.g. "cases.overdue",
// "regions.610326100000.cases.due_soon"); the browser test compares them with
// the JSON. body[data-state] is "loading", "ready", "login" or "error".

import { $, api, el, formatInt, fragment, start } from "../page.js";

const state = {
  labels: null,
  scope: null, // {code, name}: the viewer's own region
  names: new Map(), // region code -> name, learnt from the responses
};

// ---- formatting (the browser test formats the JSON the same way) ----------

/** A fraction 0..1 as a percentage with `decimals` places, half up; "—" when null. */
function formatRate(x, decimals = 1) {
  if (x === null || x === undefined) return "—";
  const scaled = String(Math.round(x * 10 ** (2 + decimals))).padStart(decimals + 1, "0");
  return `${scaled.slice(0, -decimals)}.${scaled.slice(-decimals)}%`;
}

function formatDays(x) {
  return x === null || x === undefined ? "—" : x.toFixed(1);
}

const FORMATS = { int: formatInt, rate: formatRate, days: formatDays };

// ---- small DOM helpers ------------------------------------------------------

function figure(path, text, tag = "span", attrs = {}) {
  return el(tag, { "data-figure": path, text, ...attrs });
}

function dig(data, path) {
  return path.split(".").reduce((obj, key) => (obj == null ? obj : obj[key]), data);
}

// ---- region codes -----------------------------------------------------------

// Each level's own part of a 12-digit code; the deepest non-zero part decides
// the level (as shared/regions.py does).
const LEVELS = [
  ["province", 0, 2],
  ["city", 2, 4],
  ["county", 4, 6],
  ["town", 6, 9],
  ["village", 9, 12],
];

function levelOf(code) {
  let level = "province";
  for (const [name, start, end] of LEVELS) {
    if (/[^0]/.test(code.slice(start, end))) level = name;
  }
  return level;
}

/** The codes from the viewer's scope down to `code`, both included. */
function chain(scopeCode, code) {
  const top = LEVELS.findIndex(([name]) => name === levelOf(scopeCode));
  const bottom = LEVELS.findIndex(([name]) => name === levelOf(code));
  return LEVELS.slice(top, bottom + 1).map(([, , end]) => code.slice(0, end).padEnd(12, "0"));
}

// ---- rendering ------------------------------------------------------------------

async function load(labels) {
  state.labels = labels;
  let own = null;
  if (!state.scope) {
    // No region: the viewer's own scope, which is where the breadcrumb starts.
    own = await api("/overview");
    state.scope = { code: own.region, name: own.region_name };
    state.names.set(own.region, own.region_name);
  }
  const region = fragment().get("region") || state.scope.code;
  const hasChildren = levelOf(region) !== "village";
  const [overview, flags, feeds, rows] = await Promise.all([
    own?.region === region ? own : api("/overview", { region }),
    api("/red_flags", { region }),
    api("/feeds", { region }),
    hasChildren ? api("/regions", { region }) : Promise.resolve(null),
  ]);
  state.names.set(overview.region, overview.region_name);
  for (const row of rows?.items ?? []) state.names.set(row.region_code, row.region_name);
  const crumbs = await breadcrumb(region);
  return () => {
    fillOverview(overview);
    fillRows(rows);
    fillObjects(overview.monitoring_objects);
    fillFlags(flags);
    fillFeeds(feeds.items);
    $("breadcrumb").replaceChildren(...crumbs);
    $("board").dataset.region = overview.region;
    document.title = `${overview.region_name ?? overview.region} · 统计看板`;
  };
}

async function breadcrumb(region) {
  const codes = chain(state.scope.code, region);
  const unknown = codes.filter((code) => !state.names.has(code));
  // Only a deep link reaches a region whose parents' names were not seen yet.
  const found = await Promise.all(unknown.map((code) => api("/overview", { region: code })));
  for (const o of found) state.names.set(o.region, o.region_name);
  const crumbs = [];
  codes.forEach((code, i) => {
    const name = state.names.get(code) ?? code;
    if (i > 0) crumbs.push(el("span", { class: "sep", "aria-hidden": "true", text: "›" }));
    crumbs.push(
      i === codes.length - 1
        ? el("span", { "aria-current": "page", text: name })
        : el("a", { href: `#region=${code}`, text: name }),
    );
  });
  return crumbs;
}

function fillOverview(overview) {
  for (const node of document.querySelectorAll(".kpis [data-figure], #feed-legend [data-figure]")) {
    const format = FORMATS[node.dataset.format ?? "int"];
    node.textContent = format(dig(overview, node.dataset.figure));
  }
  $("region-name").textContent = overview.region_name ?? overview.region;
  $("region-level").textContent = state.labels.levels[overview.level] ?? "";
  $("period").textContent = `统计期间 ${overview.period.date_from} 至 ${overview.period.date_to}`;
}

function fillRows(rows) {
  $("children").querySelector("table").hidden = !rows;
  $("no-children").hidden = !!rows;
  if (!rows) {
    $("region-rows").replaceChildren();
    return;
  }
  $("children-level").textContent = state.labels.levels[rows.level] ?? "下级区域";
  const most = Math.max(1, ...rows.items.map((r) => r.cases.overdue + r.cases.due_soon));
  $("region-rows").replaceChildren(
    ...rows.items.map((row) => {
      const key = `regions.${row.region_code}.cases`;
      const c = row.cases;
      const bar = el(
        "div",
        { class: "bar", title: `逾期 ${c.overdue}，即将到期 ${c.due_soon}` },
        el("span", { class: "seg late", style: { width: `${(100 * c.overdue) / most}%` } }),
        el("span", { class: "seg due_soon", style: { width: `${(100 * c.due_soon) / most}%` } }),
      );
      const tr = el(
        "tr",
        { class: "drill", "data-region": row.region_code },
        el("th", { scope: "row" }, el("a", { href: `#region=${row.region_code}`, text: row.region_name })),
        figure(`${key}.within_15_days_rate`, formatRate(c.within_15_days_rate), "td", { class: "num" }),
        figure(`${key}.open`, formatInt(c.open), "td", { class: "num" }),
        figure(`${key}.overdue`, formatInt(c.overdue), "td", { class: c.overdue ? "num bad" : "num" }),
        figure(`${key}.due_soon`, formatInt(c.due_soon), "td", { class: c.due_soon ? "num warn" : "num" }),
        el("td", { class: "bar-col" }, bar),
      );
      return tr;
    }),
  );
  if (!rows.items.length) {
    $("region-rows").append(el("tr", {}, el("td", { colspan: "6", class: "empty", text: "没有下级区域。" })));
  }
}

function barList(listId, counts, labels, prefix) {
  const total = Math.max(1, ...Object.values(counts));
  $(listId).replaceChildren(
    ...Object.entries(counts).map(([code, n]) =>
      el(
        "li",
        {},
        el("span", { class: "name", text: labels[code] ?? code }),
        el("span", { class: "track" }, el("span", { class: `fill ${code}`, style: { width: `${(100 * n) / total}%` } })),
        figure(`${prefix}.${code}`, formatInt(n), "span", { class: "n" }),
      ),
    ),
  );
}

function fillObjects(objects) {
  barList("objects-by-type", objects.by_type, state.labels.monitoring_types, "monitoring_objects.by_type");
  barList("objects-by-status", objects.by_status, state.labels.object_statuses, "monitoring_objects.by_status");
}

/** Villages as links (drill down to each), or "无". */
function villageChips(listId, key, villages) {
  $(listId).replaceChildren(
    ...villages.map((v) =>
      el("li", {}, figure(`red_flags.${key}.${v.region_code}`, v.region_name, "a", { href: `#region=${v.region_code}` })),
    ),
  );
  if (!villages.length) $(listId).append(el("li", { class: "none", text: "无" }));
}

function fillFlags(flags) {
  for (const path of ["off_system_households", "should_include_households"]) {
    document.querySelector(`[data-figure="red_flags.${path}"]`).textContent = formatInt(flags[path]);
  }
  for (const list of ["zero_object_villages", "high_ratio_regions", "no_alleviated_villages", "key_area_regions"]) {
    document.querySelector(`[data-figure="red_flags.${list}.count"]`).textContent = formatInt(flags[list].length);
  }
  villageChips("zero-villages", "zero_object_villages", flags.zero_object_villages);
  villageChips("no-alleviated-villages", "no_alleviated_villages", flags.no_alleviated_villages);
  const attributeLabels = state.labels.region_attributes;
  $("key-areas").replaceChildren(
    ...flags.key_area_regions.map((r) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, figure(`red_flags.key_area_regions.${r.region_code}`, r.region_name, "a", { href: `#region=${r.region_code}` })),
        el(
          "td",
          {},
          el(
            "span",
            { class: "tags" },
            ...r.attributes.map((a) =>
              figure(`red_flags.key_area_regions.${r.region_code}.${a}`, attributeLabels[a] ?? a, "span", { class: "tag" }),
            ),
          ),
        ),
      ),
    ),
  );
  if (!flags.key_area_regions.length) {
    $("key-areas").append(el("tr", {}, el("td", { colspan: "2", class: "empty", text: "无" })));
  }
  $("high-ratio").replaceChildren(
    ...flags.high_ratio_regions.map((r) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, el("a", { href: `#region=${r.region_code}`, text: r.region_name })),
        figure(`red_flags.high_ratio_regions.${r.region_code}.ratio`, formatRate(r.ratio, 2), "td", { class: "num bad" }),
      ),
    ),
  );
  if (!flags.high_ratio_regions.length) {
    $("high-ratio").append(el("tr", {}, el("td", { colspan: "2", class: "empty", text: "无" })));
  }
}

// A feed tracked per population (high_medical_expense, SPEC §12) is one cell per population.
const POPULATION_LABELS = { monitored_and_alleviated: "脱贫和监测人口", general: "其他人口" };

function fillFeeds(items) {
  const { departments, warning_types: types, feed_states: states } = state.labels;
  for (const node of document.querySelectorAll("[data-state-label]")) {
    node.textContent = states[node.dataset.stateLabel];
  }
  const byDepartment = new Map();
  for (const item of items) {
    if (!byDepartment.has(item.department)) byDepartment.set(item.department, []);
    byDepartment.get(item.department).push(item);
  }
  $("feed-grid").replaceChildren(
    ...[...byDepartment].map(([department, feeds]) =>
      el(
        "div",
        { class: "feed-row" },
        el("div", { class: "dept", text: departments[department] ?? department }),
        el(
          "div",
          { class: "cells" },
          ...feeds.map((f) => {
            const pop = f.population && f.population !== "all" ? f.population : null;
            const key = `compliance.${f.department}.${f.warning_type}${pop ? `.${pop}` : ""}`;
            const typeLabel = `${types[f.warning_type] ?? f.warning_type}${pop ? `（${POPULATION_LABELS[pop] ?? pop}）` : ""}`;
            return el(
              "div",
              {
                class: `cell ${f.state}`,
                "data-state": f.state,
                title: `${typeLabel}：${states[f.state]}${f.last_push_at ? `，最近推送 ${f.last_push_at.slice(0, 10)}` : ""}`,
              },
              el("span", { class: "type", text: typeLabel }),
              figure(`${key}.state`, states[f.state], "span", { class: "state" }),
              el(
                "span",
                { class: "rate" },
                figure(`${key}.on_time_rate`, formatRate(f.on_time_rate)),
                el("small", {}, " （", figure(`${key}.on_time_pushes`, formatInt(f.on_time_pushes)), "/", figure(`${key}.expected_pushes`, formatInt(f.expected_pushes)), "）"),
              ),
            );
          }),
        ),
      ),
    ),
  );
}

// ---- start ------------------------------------------------------------------------

// Drill down by clicking anywhere on a child region's row (the name is a link too).
$("region-rows").addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-region]");
  if (row && !event.target.closest("a")) location.hash = `region=${row.dataset.region}`;
});

start({
  load,
  texts: {
    service: "统计服务",
    forbidden: "当前账号无权查看统计数据（需要查看者或工作人员账号）。",
    notFound: "该区域不存在，或不在您的查看范围内。",
  },
  onLogin: () => {
    state.scope = null;
  },
  onLogout: () => {
    state.scope = null;
    state.names.clear();
  },
});
