// The curation page: browse and search table docs, examples, rules and the semantic model's
// semantic models, metrics and named filters; edit an item as JSON with a live preview of its
// SQL (run through /api/sql, rows shown; a metric's is its compiled SQL, as saved); review
// suggested examples;
// read the change log and revert a change. Everything goes through the JSON API under
// /api/knowledge/; writes send the API key typed in the header (kept for this tab only).
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const state = { kind: "tables", current: null };
  const keyInput = $("kb-key");
  keyInput.value = sessionStorage.getItem("querent-key") || "";
  keyInput.addEventListener("change", () => sessionStorage.setItem("querent-key", keyInput.value));

  function banner(message) {
    const b = $("kb-banner");
    b.textContent = message || "";
    b.hidden = !message;
  }

  async function call(method, path, body) {
    const headers = { "content-type": "application/json" };
    if (keyInput.value) headers.authorization = "Bearer " + keyInput.value;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const e = (data && data.error) || { code: "http_" + response.status, message: response.statusText };
      throw new Error(e.message + " (" + e.code + ")");
    }
    return data;
  }

  function database() {
    return $("kb-database").value;
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function label(kind, item) {
    if (kind === "examples") return item.question;
    return item.name;
  }

  // What "New item" starts from, per kind (the semantic kinds in dbt MetricFlow's shape).
  const BLANK = {
    tables: { name: "", description: "", columns: [] },
    examples: { question: "", sql: "" },
    rules: { name: "", description: "", kind: "note" },
    semantic_models: { name: "", description: "", model: "ref('table')", defaults: { agg_time_dimension: "" }, entities: [], dimensions: [], measures: [] },
    metrics: { name: "", description: "", type: "simple", type_params: { measure: "" }, synonyms: [] },
    filters: { name: "", description: "", semantic_model: "", expr: "" },
  };

  async function loadDatabases() {
    const health = await call("GET", "/api/health");
    for (const db of health.databases) {
      const o = el("option", db.name);
      o.value = db.name;
      $("kb-database").appendChild(o);
    }
  }

  async function refresh() {
    banner("");
    const list = $("kb-list");
    list.replaceChildren();
    const kind = state.kind;
    $("kb-new").hidden = kind === "suggestions" || kind === "changes";
    try {
      if (kind === "suggestions") {
        const data = await call("GET", "/api/knowledge/suggestions" + query({ database: database() }));
        if (!data.suggestions.length) list.appendChild(el("li", "No suggestions waiting."));
        for (const s of data.suggestions) {
          const li = el("li");
          li.appendChild(el("strong", s.question));
          li.appendChild(el("pre", s.sql));
          li.appendChild(el("span", (s.corrected ? "corrected" : "marked helpful") + " · " + s.database + " · " + s.at));
          const approve = el("button", "Approve");
          approve.onclick = () => act(() => call("POST", "/api/knowledge/suggestions/" + s.id + "/approve"));
          const preview = el("button", "Preview");
          preview.onclick = () => previewSql(s.sql, s.database);
          const reject = el("button", "Reject");
          reject.onclick = () => act(() => call("DELETE", "/api/knowledge/suggestions/" + s.id));
          li.append(approve, preview, reject);
          list.appendChild(li);
        }
        return;
      }
      if (kind === "changes") {
        const data = await call("GET", "/api/knowledge/changes" + query({ database: database() }));
        for (const c of data.changes) {
          const li = el("li");
          const what = (c.after && label(c.kind + "s", c.after)) || (c.before && label(c.kind + "s", c.before)) || "";
          // Text from items and headers sits in <bdi>: a right-to-left override in it cannot
          // reorder the words around it ("by <who> at <time>").
          const head = el("strong", "#" + c.seq + " " + c.action + " " + c.kind + ": ");
          head.appendChild(el("bdi", what));
          li.appendChild(head);
          const by = el("span", " by ");
          by.appendChild(el("bdi", c.who));
          by.append(" at ");
          by.appendChild(el("bdi", c.at));
          li.appendChild(by);
          const revert = el("button", "Revert");
          revert.onclick = () => act(() => call("POST", "/api/knowledge/changes/" + c.seq + "/revert"));
          li.appendChild(revert);
          list.appendChild(li);
        }
        return;
      }
      const data = await call("GET", "/api/knowledge/" + kind + query({ database: database(), q: $("kb-q").value }));
      if (!data.items.length) list.appendChild(el("li", "Nothing found."));
      for (const view of data.items) {
        const li = el("li");
        const open = el("button", label(kind, view.item), "kb-link");
        open.onclick = () => edit(view);
        li.appendChild(open);
        li.appendChild(el("span", " " + view.database + (view.curated ? "" : " · not curated yet")));
        list.appendChild(li);
      }
    } catch (e) {
      banner(e.message);
    }
  }

  async function act(f) {
    try {
      await f();
      await refresh();
    } catch (e) {
      banner(e.message);
    }
  }

  function edit(view) {
    state.current = view;
    $("kb-editor").hidden = false;
    $("kb-editor-title").textContent = view ? "Edit" : "New " + state.kind.replace(/s$/, "").replace(/_/g, " ");
    $("kb-editor-meta").textContent = view
      ? "id " + view.id + " · version " + view.version + " · " + view.database + (view.curated ? "" : " · inferred: saving starts the curated model")
      : "";
    $("kb-json").value = JSON.stringify(view ? view.item : BLANK[state.kind], null, 2);
    $("kb-delete").hidden = !view || !view.curated;
    $("kb-compiled").hidden = !(view && view.sql);
    $("kb-compiled").textContent = view && view.sql ? view.sql : "";
    $("kb-preview-out").replaceChildren();
  }

  async function previewSql(sql, db) {
    const out = $("kb-preview-out");
    out.replaceChildren(el("p", "Running…"));
    try {
      const r = await call("POST", "/api/sql", { sql, database: db || database() || undefined });
      const table = el("table");
      const head = el("tr");
      for (const c of r.columns) head.appendChild(el("th", c));
      table.appendChild(head);
      for (const row of r.rows.slice(0, 20)) {
        const tr = el("tr");
        for (const v of row) tr.appendChild(el("td", v === null ? "" : String(v)));
        table.appendChild(tr);
      }
      out.replaceChildren(el("p", r.row_count + " rows" + (r.row_count > 20 ? " (first 20 shown)" : "")), table);
    } catch (e) {
      out.replaceChildren(el("p", e.message, "notice notice--error"));
    }
  }

  function parsed() {
    try {
      return JSON.parse($("kb-json").value);
    } catch (e) {
      banner("The item is not valid JSON: " + e.message);
      return null;
    }
  }

  $("kb-preview").onclick = () => {
    const item = parsed();
    const view = state.current;
    if (item && item.sql) previewSql(item.sql, view && view.database);
    else if (view && view.sql) previewSql(view.sql, view.database); // a metric, as saved
    else $("kb-preview-out").replaceChildren(el("p", "This item has no SQL to run."));
  };

  $("kb-save").onclick = () => {
    const item = parsed();
    if (!item) return;
    const view = state.current;
    act(async () => {
      const saved = view
        ? await call("PUT", "/api/knowledge/" + state.kind + "/" + view.id, Object.assign({}, item, { version: view.version }))
        : await call("POST", "/api/knowledge/" + state.kind, Object.assign({}, item, { database: database() || undefined }));
      edit(saved);
      if (saved.sql) previewSql(saved.sql, saved.database);
      banner("");
    });
  };

  $("kb-delete").onclick = () => {
    const view = state.current;
    if (!view) return;
    act(async () => {
      await call("DELETE", "/api/knowledge/" + state.kind + "/" + view.id + "?version=" + encodeURIComponent(view.version));
      $("kb-editor").hidden = true;
    });
  };

  $("kb-new").onclick = () => edit(null);
  $("kb-search").addEventListener("submit", (e) => {
    e.preventDefault();
    refresh();
  });
  $("kb-database").addEventListener("change", refresh);
  for (const b of document.querySelectorAll(".kb-tabs button")) {
    b.addEventListener("click", () => {
      selectTab(b.dataset.kind);
      $("kb-editor").hidden = true;
      refresh();
    });
  }

  function selectTab(kind) {
    state.kind = kind;
    for (const o of document.querySelectorAll(".kb-tabs button")) o.setAttribute("aria-pressed", String(o.dataset.kind === kind));
  }

  // A link to one item (`/knowledge#examples/ID`) opens it in the editor with its SQL's preview.
  async function openFromHash() {
    const m = /^#(tables|examples|rules|semantic_models|metrics|filters)\/([0-9a-f]+)$/.exec(location.hash);
    if (!m) return;
    selectTab(m[1]);
    await refresh();
    try {
      const view = await call("GET", "/api/knowledge/" + m[1] + "/" + m[2]);
      edit(view);
      const sql = view.item.sql || view.sql;
      if (sql) previewSql(sql, view.database);
    } catch (e) {
      banner(e.message);
    }
  }

  loadDatabases()
    .catch((e) => banner(e.message))
    .then(() => (location.hash ? openFromHash() : refresh()));
})();
