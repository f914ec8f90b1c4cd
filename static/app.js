// querent chat page: asks the JSON API and renders each answer as a turn of the conversation.
//
// Plain JavaScript, no build step, nothing loaded from elsewhere. The page talks to three routes:
// GET /api/health (the databases), GET /api/examples?database=NAME (example questions) and
// POST /api/query/stream (the answer as server-sent events, one per stage: the page shows each
// as it arrives, the summary word by word, then the whole answer). Questions of one page share a
// session_id, so a follow-up ("only in the West zone") refines the previous one. Every value from the API is inserted as text (textContent), never
// as HTML; the one exception, the chart's SVG, goes through sanitizeSvg() first.
"use strict";

(function () {
  const MAX_TABLE_ROWS = 100;
  const MAX_EXAMPLES = 4;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const els = {
    database: document.getElementById("database"),
    databaseInfo: document.getElementById("database-info"),
    banner: document.getElementById("banner"),
    welcome: document.getElementById("welcome"),
    conversation: document.getElementById("conversation"),
    announcer: document.getElementById("announcer"),
    examples: document.getElementById("examples"),
    exampleList: document.getElementById("example-list"),
    form: document.getElementById("ask-form"),
    question: document.getElementById("question"),
    send: document.getElementById("send"),
    turnTemplate: document.getElementById("turn-template"),
  };

  let pending = false;
  let databases = [];
  // One conversation per tab: follow-ups are read against this session's previous question.
  const sessionId = (function () {
    const key = "querent-session";
    let id = window.sessionStorage.getItem(key);
    if (!id) {
      id = "chat-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
      window.sessionStorage.setItem(key, id);
    }
    return id;
  })();

  // ---------------------------------------------------------------- small DOM helpers

  /** Creates an element with a class name and optional text content. */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function announce(message) {
    // Clearing first makes screen readers repeat an identical message.
    els.announcer.textContent = "";
    window.setTimeout(function () {
      els.announcer.textContent = message;
    }, 50);
  }

  function showBanner(message) {
    els.banner.textContent = message;
    els.banner.hidden = !message;
  }

  // ---------------------------------------------------------------- API access

  /** An API failure: `code` and `details` come from the `{"error": {...}}` body when there is one. */
  class ApiError extends Error {
    constructor(message, code, details, status) {
      super(message);
      this.code = code;
      this.details = details;
      this.status = status;
    }
  }

  /** Fetches JSON; throws ApiError with the server's message, or a kind one when there is none. */
  async function fetchJson(url, options) {
    let response;
    try {
      response = await fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options));
    } catch (networkError) {
      throw new ApiError(
        "I couldn't reach the server. Check your connection and try again.",
        "network",
        null,
        0
      );
    }
    let body = null;
    const text = await response.text();
    if (text) {
      try {
        body = JSON.parse(text);
      } catch (parseError) {
        body = null;
      }
    }
    if (!response.ok) {
      const error = body && body.error ? body.error : {};
      throw new ApiError(
        error.message || "The server answered with an error (HTTP " + response.status + ").",
        error.code || "http_" + response.status,
        error.details || null,
        response.status
      );
    }
    if (body === null || typeof body !== "object") {
      throw new ApiError("The server sent an answer I couldn't read.", "bad_response", null, response.status);
    }
    return body;
  }

  // ---------------------------------------------------------------- databases and examples

  async function loadDatabases() {
    try {
      const health = await fetchJson("/api/health");
      databases = Array.isArray(health.databases) ? health.databases : [];
    } catch (error) {
      els.database.replaceChildren(placeholderOption("Unavailable"));
      showBanner("The server's health check failed: " + error.message);
      return;
    }
    els.database.replaceChildren();
    if (databases.length === 0) {
      els.database.append(placeholderOption("No databases"));
      showBanner("The server has no database to query. Ask an administrator to configure one.");
      return;
    }
    for (const db of databases) {
      const option = el("option", null, db.name);
      option.value = db.name;
      els.database.append(option);
    }
    els.database.disabled = false;
    els.database.value = databases[0].name;
    onDatabaseChanged();
  }

  /** An option that stands for no database (its value is empty, whatever its text says). */
  function placeholderOption(text) {
    const option = el("option", null, text);
    option.value = "";
    return option;
  }

  function onDatabaseChanged() {
    const db = databases.find(function (d) {
      return d.name === els.database.value;
    });
    els.databaseInfo.textContent =
      db && typeof db.tables === "number" ? db.tables + (db.tables === 1 ? " table" : " tables") : "";
    loadExamples(els.database.value);
  }

  async function loadExamples(database) {
    els.exampleList.replaceChildren();
    els.examples.hidden = true;
    if (!database) return;
    let examples;
    try {
      const body = await fetchJson("/api/examples?database=" + encodeURIComponent(database));
      examples = Array.isArray(body.examples) ? body.examples : [];
    } catch (error) {
      // Examples are a convenience: without them the page still works.
      return;
    }
    if (database !== els.database.value) return; // the user switched again meanwhile
    const seen = new Set();
    for (const example of examples) {
      const question = example && typeof example.question === "string" ? example.question.trim() : "";
      if (!question || seen.has(question)) continue;
      seen.add(question);
      const item = el("li");
      const button = el("button", "chip", question);
      button.type = "button";
      button.addEventListener("click", function () {
        els.question.value = question;
        ask();
      });
      item.append(button);
      els.exampleList.append(item);
      if (seen.size >= MAX_EXAMPLES) break;
    }
    els.examples.hidden = seen.size === 0;
    // The first example doubles as the placeholder: it shows the kind of question this data takes.
    const first = seen.values().next().value;
    els.question.placeholder = first ? "e.g. " + first : "Ask a question about your data";
  }

  // ---------------------------------------------------------------- asking

  function setPending(value) {
    pending = value;
    els.send.disabled = value;
    els.send.classList.toggle("is-busy", value);
    els.send.setAttribute("aria-label", value ? "Asking, please wait" : "Ask");
    els.form.setAttribute("aria-busy", value ? "true" : "false");
  }

  async function ask() {
    if (pending) return;
    const question = els.question.value.trim();
    if (!question) {
      els.question.focus();
      announce("Type a question first.");
      return;
    }
    const database = els.database.value;
    const turn = addTurn(question, database);
    const answer = turn.querySelector(".turn__answer");
    els.question.value = "";
    setPending(true);
    try {
      // Without a database the server picks its default (or says which ones it knows).
      const payload = { question: question, session_id: sessionId };
      if (database) payload.database = database;
      const body = await streamAnswer(payload, answer);
      renderAnswer(answer, body);
      announce("Answer: " + (body.summary || "ready."));
    } catch (error) {
      renderError(answer, error, question);
      announce("No answer: " + error.message);
    } finally {
      answer.setAttribute("aria-busy", "false");
      setPending(false);
      els.question.focus();
    }
  }

  /** Posts to /api/query/stream, shows each stage's event in `container` as it arrives, and
   * resolves with the final answer (throws ApiError on an error event or HTTP error). */
  async function streamAnswer(payload, container) {
    let response;
    try {
      response = await fetch("/api/query/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(payload),
      });
    } catch (networkError) {
      throw new ApiError("I couldn't reach the server. Check your connection and try again.", "network", null, 0);
    }
    if (!response.ok || !response.body) {
      let error = {};
      try {
        error = (await response.json()).error || {};
      } catch (parseError) {
        error = {};
      }
      throw new ApiError(
        error.message || "The server answered with an error (HTTP " + response.status + ").",
        error.code || "http_" + response.status,
        error.details || null,
        response.status
      );
    }
    container.replaceChildren();
    const progress = el("ol", "answer__progress");
    const summary = el("p", "answer__summary answer__summary--streaming", "");
    container.append(progress, summary);
    const step = function (text) {
      progress.append(el("li", null, text));
    };
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        let value = null;
        try {
          value = JSON.parse(data.join("\n"));
        } catch (parseError) {
          continue;
        }
        if (name === "analysis") step("Read the question" + (value.intents.length ? " (" + value.intents.join(", ") + ")" : ""));
        else if (name === "retrieval") step("Found tables: " + (value.tables.join(", ") || "none"));
        else if (name === "sql") step("Wrote SQL (" + value.generation_method + ")" + (value.fallback_reason ? ": " + value.fallback_reason : ""));
        else if (name === "rows") step("Ran it: " + value.row_count + " row" + (value.row_count === 1 ? "" : "s"));
        else if (name === "chart") step(value.chart ? "Drew a " + value.chart.kind + " chart" : "No chart for this result");
        else if (name === "summary_token") summary.textContent += value.text;
        else if (name === "answer") return value;
        else if (name === "error") {
          const error = value.error || {};
          throw new ApiError(error.message || "The question failed.", error.code || "unknown", error.details || null, 200);
        }
      }
    }
    throw new ApiError("The answer stopped before it was complete.", "bad_response", null, 200);
  }

  function addTurn(question, database) {
    const fragment = els.turnTemplate.content.cloneNode(true);
    const turn = fragment.querySelector(".turn");
    turn.querySelector(".turn__question-text").textContent = question;
    const badge = turn.querySelector(".turn__database");
    if (database) badge.textContent = database;
    else badge.remove();
    els.conversation.append(turn);
    els.welcome.hidden = true;
    els.examples.classList.add("examples--compact");
    turn.scrollIntoView({ behavior: "smooth", block: "start" });
    return turn;
  }

  // ---------------------------------------------------------------- rendering an answer

  function renderAnswer(container, body) {
    container.replaceChildren();

    const summary = el("p", "answer__summary", body.summary || "Here is what I found.");
    container.append(summary);

    const insights = Array.isArray(body.insights) ? body.insights.filter(Boolean) : [];
    if (insights.length > 0) {
      const section = el("section", "answer__section");
      section.append(el("h3", "answer__heading", "Key insights"));
      const list = el("ul", "insights");
      for (const insight of insights) list.append(el("li", null, insight));
      section.append(list);
      container.append(section);
    }

    const chart = renderChart(body.chart);
    if (chart) container.append(chart);

    container.append(renderTable(body));
    const followUps = Array.isArray(body.follow_ups) ? body.follow_ups.filter(Boolean) : [];
    if (followUps.length > 0) {
      const section = el("section", "answer__section answer__follow-ups");
      section.append(el("h3", "answer__heading", "Ask next"));
      for (const text of followUps) {
        const button = el("button", "button button--small follow-up", text);
        button.type = "button";
        button.addEventListener("click", function () {
          els.question.value = text;
          ask();
        });
        section.append(button);
      }
      container.append(section);
    }
    if (body.sql) container.append(renderSql(body.sql));
    container.append(renderHow(body));
  }

  function renderChart(chart) {
    if (!chart || typeof chart.svg !== "string") return null;
    const svg = sanitizeSvg(chart.svg);
    if (!svg) return null;
    const figure = el("figure", "chart");
    const title = chart.title || "Chart";
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title + (chart.kind ? " (" + chart.kind + " chart)" : ""));
    figure.append(svg);
    // The title is drawn inside the chart; the caption only names it for assistive technology.
    if (chart.title) figure.append(el("figcaption", "visually-hidden", chart.title));
    return figure;
  }

  /**
   * Turns SVG markup from the API into a safe SVG element, or null. Only markup that starts with
   * `<svg` is accepted; it is parsed as image/svg+xml (never as HTML), and scripts, foreign
   * content, animations that could rewrite links, event handler attributes and non-local links
   * are removed before the element is adopted into the page.
   */
  function sanitizeSvg(markup) {
    const text = markup.trim();
    if (!text.startsWith("<svg")) return null;
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    if (!root || root.namespaceURI !== SVG_NS || root.localName !== "svg") return null;
    if (doc.getElementsByTagName("parsererror").length > 0) return null;

    const forbidden = ["script", "style", "foreignObject", "iframe", "object", "embed", "animate", "set",
      "animateMotion", "animateTransform", "handler", "listener"];
    for (const name of forbidden) {
      for (const node of Array.from(root.getElementsByTagName(name))) node.remove();
    }
    for (const node of [root].concat(Array.from(root.getElementsByTagName("*")))) {
      for (const attr of Array.from(node.attributes)) {
        const name = attr.name.toLowerCase();
        const isLink = name === "href" || name.endsWith(":href") || name === "src";
        if (name.startsWith("on") || (isLink && !attr.value.trim().startsWith("#"))) {
          node.removeAttributeNode(attr);
        }
      }
    }
    // Scale with the page: keep the drawing's proportions through a viewBox, drop fixed sizes.
    const width = parseFloat(root.getAttribute("width"));
    const height = parseFloat(root.getAttribute("height"));
    if (!root.getAttribute("viewBox") && width > 0 && height > 0) {
      root.setAttribute("viewBox", "0 0 " + width + " " + height);
    }
    if (root.getAttribute("viewBox")) {
      root.removeAttribute("width");
      root.removeAttribute("height");
    }
    root.setAttribute("preserveAspectRatio", "xMidYMid meet");
    return document.importNode(root, true);
  }

  function renderTable(body) {
    const columns = Array.isArray(body.columns) ? body.columns : [];
    const rows = Array.isArray(body.rows) ? body.rows : [];
    const total = typeof body.row_count === "number" ? body.row_count : rows.length;

    const section = el("section", "answer__section");
    const head = el("div", "answer__section-head");
    head.append(el("h3", "answer__heading", "Data"));
    const shown = Math.min(rows.length, MAX_TABLE_ROWS);
    const countText =
      total === 0
        ? "no rows"
        : shown < total
          ? "showing " + shown.toLocaleString() + " of " + total.toLocaleString() + " rows"
          : total.toLocaleString() + (total === 1 ? " row" : " rows");
    head.append(el("span", "answer__meta", countText));
    if (rows.length > 0 && columns.length > 0) {
      const download = el("button", "button button--small", "Download CSV");
      download.type = "button";
      download.addEventListener("click", function () {
        downloadCsv(columns, rows, body.database);
      });
      head.append(download);
    }
    section.append(head);

    if (rows.length === 0 || columns.length === 0) {
      section.append(el("p", "answer__empty", "The query returned no rows."));
      return section;
    }

    const scroller = el("div", "table-scroll");
    scroller.tabIndex = 0; // keyboard users can scroll a wide or long table
    scroller.setAttribute("role", "region");
    scroller.setAttribute("aria-label", "Result rows, " + countText);
    const table = el("table", "data-table");
    const numeric = columns.map(function (_, i) {
      return rows.some(function (r) {
        return Array.isArray(r) && typeof r[i] === "number";
      });
    });
    const formats = columns.map(function (_, i) {
      return numberFormat(rows, i);
    });
    const thead = el("thead");
    const headRow = el("tr");
    columns.forEach(function (name, i) {
      const th = el("th", numeric[i] ? "num" : null, name);
      th.scope = "col";
      headRow.append(th);
    });
    thead.append(headRow);
    table.append(thead);
    const tbody = el("tbody");
    for (const row of rows.slice(0, MAX_TABLE_ROWS)) {
      const tr = el("tr");
      columns.forEach(function (_, i) {
        const value = Array.isArray(row) ? row[i] : undefined;
        const td = el("td", numeric[i] ? "num" : null);
        if (value === null || value === undefined) {
          td.append(el("span", "null", "—"));
          td.title = "empty (NULL)";
        } else {
          td.textContent = formatCell(value, formats[i]);
        }
        tr.append(td);
      });
      tbody.append(tr);
    }
    table.append(tbody);
    scroller.append(table);
    section.append(scroller);
    return section;
  }

  /**
   * How to show the numbers of column `i`, decided once for the column so that its values line up:
   * whole numbers as they are (years and ids read wrong with separators), fractions with
   * separators and two decimals, or up to four when every value is below one (rates, shares).
   */
  function numberFormat(rows, i) {
    let fractional = false;
    let small = true;
    for (const row of rows.slice(0, MAX_TABLE_ROWS)) {
      const value = Array.isArray(row) ? row[i] : null;
      if (typeof value !== "number" || !isFinite(value)) continue;
      if (!Number.isInteger(value)) fractional = true;
      if (Math.abs(value) >= 1) small = false;
    }
    if (!fractional) return null;
    return small
      ? { maximumFractionDigits: 4 }
      : { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  }

  /** Formats a cell for reading with its column's number format; the CSV keeps the raw values. */
  function formatCell(value, format) {
    if (typeof value === "number") {
      return format ? value.toLocaleString(undefined, format) : String(value);
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  // ---------------------------------------------------------------- CSV

  /**
   * One CSV field per RFC 4180: quoted when it holds a quote, comma, or line break (or starts or
   * ends with a space), quotes doubled. Text that a spreadsheet would run as a formula gets a
   * leading apostrophe (the OWASP advice against CSV injection); numbers are left alone.
   */
  function csvField(value) {
    if (value === null || value === undefined) return "";
    let text = typeof value === "object" ? JSON.stringify(value) : String(value);
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = "'" + text;
    if (/[",\r\n]/.test(text) || /^\s|\s$/.test(text)) {
      text = '"' + text.replace(/"/g, '""') + '"';
    }
    return text;
  }

  function toCsv(columns, rows) {
    const lines = [columns.map(csvField).join(",")];
    for (const row of rows) {
      lines.push(
        columns
          .map(function (_, i) {
            return csvField(Array.isArray(row) ? row[i] : null);
          })
          .join(",")
      );
    }
    return lines.join("\r\n") + "\r\n";
  }

  function downloadCsv(columns, rows, database) {
    // The byte-order mark makes spreadsheet programs read the file as UTF-8.
    const blob = new Blob(["\ufeff" + toCsv(columns, rows)], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const link = el("a");
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    link.href = url;
    link.download = "querent-" + (database || "answer").replace(/[^\w-]+/g, "_") + "-" + stamp + ".csv";
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
    announce("CSV file downloaded.");
  }

  // ---------------------------------------------------------------- SQL and the trace

  function renderSql(sql) {
    const section = el("section", "answer__section");
    const head = el("div", "answer__section-head");
    head.append(el("h3", "answer__heading", "SQL"));
    const copy = el("button", "button button--small", "Copy SQL");
    copy.type = "button";
    copy.addEventListener("click", async function () {
      const ok = await copyText(sql);
      copy.textContent = ok ? "Copied" : "Copy failed";
      announce(ok ? "SQL copied to the clipboard." : "Could not copy; select the SQL and copy it by hand.");
      window.setTimeout(function () {
        copy.textContent = "Copy SQL";
      }, 2000);
    });
    head.append(copy);
    section.append(head);
    const pre = el("pre", "sql");
    pre.append(el("code", null, sql));
    pre.tabIndex = 0;
    pre.setAttribute("aria-label", "SQL query");
    section.append(pre);
    return section;
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (error) {
        // fall through to the selection-based copy
      }
    }
    // Plain-HTTP pages have no clipboard API: copy through a temporary selection.
    const area = el("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (error) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  function renderHow(body) {
    const details = el("details", "how");
    details.append(el("summary", "how__summary", "How I got this"));
    const inner = el("div", "how__body");

    const facts = el("dl", "facts");
    function fact(name, value) {
      facts.append(el("dt", null, name));
      facts.append(el("dd", null, value));
    }
    if (body.generation_method) fact("Method", humanize(body.generation_method));
    if (typeof body.confidence === "number" && isFinite(body.confidence)) {
      const percent = body.confidence <= 1 ? body.confidence * 100 : body.confidence;
      fact("Confidence", Math.round(Math.max(0, Math.min(100, percent))) + "%");
    }
    if (body.database) fact("Database", body.database);
    if (facts.children.length > 0) inner.append(facts);

    const timings = body.timings_ms && typeof body.timings_ms === "object" ? body.timings_ms : null;
    const stages = timings
      ? Object.keys(timings).filter(function (k) {
          return typeof timings[k] === "number" && isFinite(timings[k]);
        })
      : [];
    if (stages.length > 0) {
      inner.append(el("h4", "how__heading", "Time per stage"));
      const max = Math.max.apply(null, stages.map(function (k) { return timings[k]; }).concat([0.001]));
      const total = stages.reduce(function (sum, k) { return sum + timings[k]; }, 0);
      const table = el("table", "timings");
      const tbody = el("tbody");
      for (const stage of stages) {
        const tr = el("tr");
        const th = el("th", null, humanize(stage));
        th.scope = "row";
        const barCell = el("td", "timings__bar-cell");
        const bar = el("span", "timings__bar");
        bar.style.width = Math.max(1, (timings[stage] / max) * 100) + "%";
        bar.setAttribute("aria-hidden", "true");
        barCell.append(bar);
        tr.append(th, barCell, el("td", "num", formatMs(timings[stage])));
        tbody.append(tr);
      }
      const totalRow = el("tr", "timings__total");
      const totalHead = el("th", null, "Total");
      totalHead.scope = "row";
      totalRow.append(totalHead, el("td"), el("td", "num", formatMs(total)));
      tbody.append(totalRow);
      table.append(tbody);
      inner.append(table);
    }

    const trace = Array.isArray(body.trace) ? body.trace : [];
    if (trace.length > 0) {
      inner.append(el("h4", "how__heading", "Steps"));
      const list = el("ol", "trace");
      for (const step of trace) {
        if (!step || typeof step !== "object") continue;
        const item = el("li", "trace__step");
        const line = el("div", "trace__line");
        if (step.stage) line.append(el("span", "badge badge--stage", humanize(step.stage)));
        line.append(el("span", "trace__message", step.message || ""));
        item.append(line);
        const extra = renderDetails(step.details);
        if (extra) item.append(extra);
        list.append(item);
      }
      inner.append(list);
    }

    if (inner.children.length === 0) inner.append(el("p", "answer__empty", "No trace was recorded."));
    details.append(inner);
    return details;
  }

  /** A trace step's details: a key/value list when flat, pretty JSON otherwise; null when empty. */
  function renderDetails(details) {
    if (details === null || details === undefined || details === "") return null;
    if (typeof details !== "object") return el("p", "trace__details-text", String(details));
    const keys = Object.keys(details);
    if (keys.length === 0) return null;
    const flat =
      !Array.isArray(details) &&
      keys.every(function (k) {
        const v = details[k];
        return v === null || typeof v !== "object" || (Array.isArray(v) && v.every(function (x) {
          return x === null || typeof x !== "object";
        }));
      });
    if (flat) {
      const dl = el("dl", "trace__details");
      for (const key of keys) {
        const value = details[key];
        dl.append(el("dt", null, humanize(key)));
        dl.append(el("dd", null, Array.isArray(value) ? value.join(", ") : value === null ? "—" : String(value)));
      }
      return dl;
    }
    const pre = el("pre", "trace__json");
    pre.textContent = JSON.stringify(details, null, 2);
    return pre;
  }

  function humanize(text) {
    const words = String(text)
      .replace(/[_-]+/g, " ")
      .trim()
      .replace(/\b(sql|llm|ms|id|csv)\b/gi, function (word) {
        return word.toUpperCase();
      });
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function formatMs(ms) {
    if (ms >= 1000) return (ms / 1000).toLocaleString(undefined, { maximumFractionDigits: 2 }) + " s";
    return ms.toLocaleString(undefined, { maximumFractionDigits: ms < 10 ? 2 : 0 }) + " ms";
  }

  // ---------------------------------------------------------------- errors

  /** The kind words for each stable error code; the server's own message is shown below them. */
  const ERROR_INTROS = {
    cannot_answer: "I couldn't turn that question into a query on this data.",
    empty_question: "Please type a question first.",
    question_too_long: "That question is too long for me.",
    unknown_database: "That database isn't available.",
    unknown_table: "The question refers to a table I don't know.",
    sql_rejected: "The query I wrote was refused by the safety check, so I didn't run it.",
    sql_failed: "The database couldn't run the query I wrote.",
    sql_timeout: "The query took too long and was stopped.",
    invalid_request: "The request wasn't understood.",
    network: "I couldn't reach the server.",
  };

  const ERROR_HINTS = {
    cannot_answer:
      "Try rephrasing with the words the data uses (the names of tables, columns or values), " +
      "or start from one of the example questions.",
    question_too_long: "Try a shorter, more focused question.",
    sql_rejected: "Try rephrasing the question, or ask something more specific.",
    sql_failed: "Try rephrasing the question, or ask something more specific.",
    sql_timeout: "Try narrowing it down, for example to a shorter time range or one category.",
    network: "Check your connection, then try again.",
  };

  /** Why a question was refused, from the refusal's `cause` and its data (the server's
   * `details`: `{cause, unmapped, ...}`, see src/sql/refusal.rs); null for an unknown cause. */
  function refusalCause(details) {
    const pct = function (x) {
      return typeof x === "number" ? Math.round(x * 100) + "%" : "?";
    };
    switch (details.cause) {
      case "nothing_linked":
        return "No word of the question matches a table, a column or a value in the data.";
      case "no_join_path":
        return "The question needs tables that are not connected: " +
          (Array.isArray(details.tables) ? details.tables.join(", ") : "?") + ".";
      case "nothing_to_show":
        return "Nothing in the question says what to show.";
      case "low_confidence":
        return "My best reading was too unsure to show (confidence " + pct(details.confidence) +
          ", I need " + pct(details.min_confidence) + ").";
      case "empty_result":
        return "My best reading returned no rows, which made it too unsure to show (confidence " +
          pct(details.confidence) + ", I need " + pct(details.min_confidence) + ").";
      case "no_candidate":
        return "I could not build any query for it.";
      case "unreadable":
        return "This does not read as a question about the data" +
          (details.reason ? " (" + details.reason + ")" : "") + ".";
      case "not_computed":
        return "I read this as a business metric question, but I do not compute it yet" +
          (details.reason ? " (" + details.reason + ")" : "") + ".";
      case "partly_read":
        return "I recognised " +
          (Array.isArray(details.metrics) ? details.metrics.join(", ") : "a metric") +
          ", but not the words marked below; rephrase with the terms of the business model.";
      default:
        return null;
    }
  }

  function renderError(container, error, question) {
    container.replaceChildren();
    const box = el("div", "answer-error");
    box.setAttribute("role", "alert");
    const code = error && error.code ? error.code : "unknown";
    const server = code.startsWith("http_") && error.status >= 500;
    const intro =
      ERROR_INTROS[code] || (server || code === "internal" || code === "knowledge_error"
        ? "Something went wrong on our side."
        : "I couldn't answer that.");
    box.append(el("p", "answer-error__title", intro));

    const cause = code === "cannot_answer" && error.details ? refusalCause(error.details) : null;
    if (cause) box.append(el("p", "answer-error__cause", cause));

    const unmapped = error && error.details ? error.details.unmapped : null;
    const words = Array.isArray(unmapped) ? unmapped : typeof unmapped === "string" ? [unmapped] : [];
    if (code === "cannot_answer" && words.length > 0) {
      const line = el("p", "answer-error__unmapped");
      line.append(document.createTextNode("I don't know what these words refer to: "));
      words.forEach(function (word, i) {
        if (i > 0) line.append(document.createTextNode(", "));
        line.append(el("mark", "unmapped", word));
      });
      line.append(document.createTextNode("."));
      box.append(line);
    }
    const known = error && error.details ? error.details.known_databases : null;
    if (code === "unknown_database" && Array.isArray(known) && known.length > 0) {
      box.append(el("p", null, "Available: " + known.join(", ") + "."));
    }
    if (error && error.message && error.message !== intro) {
      box.append(el("p", "answer-error__message", error.message));
    }
    const hint = ERROR_HINTS[code] || (server ? "Please try again in a moment." : null);
    if (hint) box.append(el("p", "answer-error__hint", hint));

    const actions = el("div", "answer-error__actions");
    const edit = el("button", "button button--small", "Edit the question");
    edit.type = "button";
    edit.addEventListener("click", function () {
      els.question.value = question;
      els.question.focus();
      els.question.setSelectionRange(question.length, question.length);
    });
    actions.append(edit);
    if (code === "network" || server || code === "sql_timeout") {
      const retry = el("button", "button button--small", "Try again");
      retry.type = "button";
      retry.addEventListener("click", function () {
        els.question.value = question;
        ask();
      });
      actions.append(retry);
    }
    box.append(actions);
    container.append(box);
  }

  // ---------------------------------------------------------------- wiring

  els.form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask();
  });
  els.question.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter (and Enter while composing with an input method) adds a line.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ask();
    }
  });
  els.database.addEventListener("change", onDatabaseChanged);

  // A link can carry a question: /?q=...&database=... asks it once the databases are loaded.
  loadDatabases().then(function () {
    const params = new URLSearchParams(window.location.search);
    const question = (params.get("q") || "").trim();
    const database = params.get("database");
    if (database && databases.some(function (db) { return db.name === database; })) {
      els.database.value = database;
      onDatabaseChanged();
    }
    if (question) {
      els.question.value = question;
      ask();
    }
  });
})();
