// The staff to-do page (待办事项): reads GET /reporting/v1/worklist with the
// staff member's token and lists, per village, what needs doing today. No
// framework, no build step; the token, the login form, the requests and the
// error texts are the shell it shares with the dashboard (../page.js), so one
// login serves both pages. `#region=CODE` narrows the list to a town or a
// village inside the scope.
//
// Every count carries data-figure="<path>" ("totals.gaps",
// "villages.610326100201.overdue_cases.total"); every item is a link
// (a[data-item]) to its JSON. The browser test compares both with the JSON.
// body[data-state] is "loading", "ready", "login" or "error".

import { $, api, el, formatInt, fragment, start } from "../page.js";

const SECTIONS = [
  ["overdue_cases", "逾期案件"],
  ["due_soon_cases", "即将到期案件"],
  ["gaps", "帮扶缺口"],
  ["pending_requests", "待审批申请"],
  ["overdue_problems", "逾期未整改问题"],
];

const state = { labels: null };

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

async function load(labels) {
  state.labels = labels;
  const todo = await api("/worklist", { region: fragment().get("region") });
  return () => {
    for (const node of document.querySelectorAll(".kpis [data-figure]")) {
      node.textContent = formatInt(todo.totals[node.dataset.figure.split(".")[1]]);
    }
    $("villages").replaceChildren(...todo.villages.map(villageCard));
    $("nothing").hidden = todo.villages.length > 0;
    $("region-name").textContent = todo.region_name ?? todo.region;
    document.title = `${todo.region_name ?? todo.region} · 待办事项`;
    $("today").textContent = `截至 ${todo.today}`;
    $("limit").textContent = String(todo.limit);
    $("board").dataset.region = todo.region;
  };
}

start({
  load,
  texts: {
    service: "服务",
    forbidden: "待办事项仅向工作人员显示（查看者账号请使用统计看板）。",
    notFound: "该区域不存在，或不在您的辖区内。",
  },
  // A viewer's 403 leaves nothing of another page's list on screen.
  hideBoardOnError: true,
});
