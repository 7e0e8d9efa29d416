/// The search page `GET /` serves: one self-contained HTML document (inline
/// style and script, nothing fetched from elsewhere; its own Content Security
/// Policy allows only this server for requests and pictures).
///
/// What it does: a query box; a picture from a file picker, a drop onto the
/// drop zone or a paste, sent as base64 in the JSON body of `POST /v1/search`;
/// a grid of results, each with its thumbnail (`GET /v1/items/{id}/picture`),
/// its score, every stage score of its `explanation` with where that score
/// places it among the results shown, and the keywords it matched; Save and
/// Hide buttons that post `save` and `hide` events to `POST /v1/events`; the
/// API's error JSON (code and message) in an alert. Every value from the API
/// reaches the document through `textContent` or attribute setters, never as
/// markup. `body[data-state]` (`ready`, `searching`, `results`, `error`) tells
/// a driver when a query is done; `scripts/check-page.py` drives it in
/// headless Chromium.
///
/// Edit it here; `mms serve --page FILE` serves a file instead while editing.
public enum SearchPage {
    /// The page's HTML.
    public static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>mms search</title>
        <style>
        :root { color-scheme: light; --accent: #1f5fbf; --muted: #5c5c5c; --line: #d6d6d6; --bad: #a11d1d; }
        * { box-sizing: border-box; }
        [hidden] { display: none !important; }
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f7f7f5; color: #1d1d1d; }
        header, main { max-width: 1180px; margin: 0 auto; padding: 0 1.2em; }
        header { display: flex; align-items: baseline; gap: 1em; flex-wrap: wrap; }
        h1 { font-size: 1.35em; margin: 0.8em 0 0.4em; }
        .muted { color: var(--muted); }
        form { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 0.9em 1em; }
        .row { display: flex; gap: 0.8em; align-items: flex-end; }
        .field { display: flex; flex-direction: column; gap: 0.2em; }
        .grow { flex: 1; }
        label, legend { font-weight: 600; font-size: 0.9em; }
        input[type=search], input[type=text], input[type=password], input[type=number] {
          font: inherit; padding: 0.45em 0.6em; border: 1px solid #9a9a9a; border-radius: 5px; background: #fff; }
        input[type=number] { width: 8em; }
        button { font: inherit; padding: 0.45em 0.9em; border-radius: 5px; border: 1px solid var(--accent);
          background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); }
        button[aria-pressed=true] { background: #0d3b80; border-color: #0d3b80; color: #fff; }
        button:disabled { opacity: 0.6; cursor: default; }
        :focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
        .drop-zone { margin-top: 0.8em; border: 2px dashed #9a9a9a; border-radius: 8px; padding: 0.6em 0.9em;
          display: flex; flex-wrap: wrap; align-items: center; gap: 0.6em; }
        .drop-zone p { margin: 0; flex-basis: 100%; color: var(--muted); }
        .drop-zone.over { border-color: var(--accent); background: #eaf1fc; }
        .chosen { display: flex; align-items: center; gap: 0.6em; }
        .chosen img { width: 64px; height: 64px; object-fit: cover; border-radius: 4px; background: #eee; }
        .options { display: flex; flex-wrap: wrap; gap: 1em; border: 0; padding: 0; margin: 0.8em 0 0; }
        .options legend { padding: 0; margin-bottom: 0.3em; }
        .error { margin: 1em 0 0; border: 1px solid var(--bad); border-left-width: 6px; background: #fdf0f0;
          border-radius: 6px; padding: 0.4em 0.9em; color: var(--bad); }
        .error p { margin: 0.3em 0; }
        .error code { background: #fff; padding: 0 0.3em; border-radius: 3px; }
        #status { min-height: 1.4em; }
        .grid { list-style: none; padding: 0; margin: 0 0 2em; display: grid; gap: 1em;
          grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 0.7em; display: flex;
          flex-direction: column; gap: 0.35em; }
        .card.hidden-item { opacity: 0.45; }
        .thumb { width: 100%; height: 160px; object-fit: contain; background: #ececec; border-radius: 4px; }
        .thumb.missing { display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 0.85em; }
        .card h2 { font-size: 1em; margin: 0.2em 0 0; }
        .rank { color: var(--muted); font-weight: 400; }
        .score { font-variant-numeric: tabular-nums; margin: 0; }
        .why { font-size: 0.85em; border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        .why caption { text-align: left; color: var(--muted); font-weight: 600; }
        .why th { text-align: left; font-weight: 400; padding: 0.05em 0.4em 0.05em 0; white-space: nowrap; }
        .why td { text-align: right; padding: 0.05em 0; }
        .why td.bar { width: 40%; padding-left: 0.4em; }
        .why meter { width: 100%; height: 0.7em; }
        .terms, .places { font-size: 0.85em; margin: 0; }
        .places { color: #0d3b80; }
        .terms mark { background: #fff1b8; padding: 0 0.2em; border-radius: 3px; }
        .meta { font-size: 0.8em; color: var(--muted); margin: 0; overflow-wrap: anywhere; }
        .actions { display: flex; gap: 0.5em; margin-top: auto; }
        .actions button { flex: 1; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        </style>
        </head>
        <body>
        <header>
          <h1>mms search</h1>
          <p id="collection" class="muted"></p>
        </header>
        <main>
          <form id="search-form" role="search" aria-label="Search the collection" novalidate>
            <div class="row">
              <div class="field grow">
                <label for="query">Words</label>
                <input id="query" name="text" type="search" autocomplete="off" spellcheck="false"
                       placeholder="a red apple, a sleeping cat…">
              </div>
              <button id="search-button" type="submit">Search</button>
            </div>
            <div id="drop-zone" class="drop-zone">
              <p id="drop-help">Search with a picture: drop a JPEG or PNG here, or choose one.</p>
              <label for="picture">Picture</label>
              <input id="picture" name="picture" type="file" accept="image/jpeg,image/png" aria-describedby="drop-help">
              <div id="picture-chosen" class="chosen" hidden>
                <img id="picture-preview" alt="The query picture" width="64" height="64">
                <span id="picture-name"></span>
                <button id="picture-clear" type="button">Remove picture</button>
              </div>
            </div>
            <fieldset class="options">
              <legend>Options</legend>
              <div class="field">
                <label for="k">Results</label>
                <input id="k" name="k" type="number" min="1" max="100" value="12">
              </div>
              <div class="field">
                <label for="min-relevance">Minimum relevance (0–1, optional)</label>
                <input id="min-relevance" name="minRelevance" type="number" min="0" max="1" step="0.05">
              </div>
              <div class="field">
                <label for="user">User id (for save and hide)</label>
                <input id="user" name="user" type="text" autocomplete="off">
              </div>
            </fieldset>
          </form>
          <div id="error" class="error" role="alert" hidden>
            <p><strong id="error-title">The search failed.</strong> <code id="error-code"></code></p>
            <p id="error-message"></p>
          </div>
          <p id="status" class="muted" role="status" aria-live="polite"></p>
          <ol id="results" class="grid" aria-label="Results"></ol>
        </main>
        <script>
        "use strict";
        (() => {
          // Every value that comes from the API reaches the page through textContent,
          // attribute setters or URLs checked below; never through markup.
          const $ = (id) => document.getElementById(id);
          const form = $("search-form"), query = $("query"), pictureInput = $("picture"), dropZone = $("drop-zone");
          const results = $("results"), status = $("status");
          let picture = null; // {name, base64, url}
          let busy = false;

          function element(tag, attributes, ...children) {
            const node = document.createElement(tag);
            for (const [name, value] of Object.entries(attributes || {})) {
              if (name === "class") node.className = value; else node.setAttribute(name, value);
            }
            for (const child of children) {
              if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
            }
            return node;
          }

          function setState(state) { document.body.dataset.state = state; }

          function say(text) { status.textContent = text; }

          function showError(title, code, message) {
            $("error-title").textContent = title;
            $("error-code").textContent = code || "";
            $("error-code").hidden = !code;
            $("error-message").textContent = message || "";
            $("error").hidden = false;
          }

          function clearError() { $("error").hidden = true; }

          // The API's error body is {"error": {"code", "message"}}; anything else is shown as the status line.
          async function failure(response, what) {
            let code = null, message = `${response.status} ${response.statusText}`.trim();
            try {
              const body = await response.json();
              if (body && body.error) {
                code = typeof body.error.code === "string" ? body.error.code : null;
                if (typeof body.error.message === "string") message = body.error.message;
              }
            } catch (_) { /* not JSON: keep the status line */ }
            const retry = response.headers.get("Retry-After");
            if (retry) message += ` (try again in ${retry} s)`;
            showError(what, code, message);
          }

          function userID() {
            const field = $("user");
            if (!field.value.trim()) {
              const bytes = new Uint8Array(6);
              crypto.getRandomValues(bytes);
              field.value = "page-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
            }
            try { localStorage.setItem("mms-user", field.value.trim()); } catch (_) { /* storage off */ }
            return field.value.trim();
          }

          function format(value) {
            if (typeof value !== "number" || !isFinite(value)) return String(value);
            const size = Math.abs(value);
            return size !== 0 && (size < 0.001 || size >= 10000) ? value.toExponential(2) : value.toFixed(size < 1 ? 4 : 2);
          }

          // The stages in the order a result passes through them; any other key follows, by name.
          const stageOrder = ["caption", "text→image", "image", "keyword", "fusion", "relevance", "engagement"];
          function stageKeys(explanation) {
            return Object.keys(explanation).sort((a, b) => {
              const i = stageOrder.indexOf(a), j = stageOrder.indexOf(b);
              return (i < 0 ? stageOrder.length : i) - (j < 0 ? stageOrder.length : j) || a.localeCompare(b);
            });
          }

          function ordinal(n) {
            const s = ["th", "st", "nd", "rd"], v = n % 100;
            return n + (s[(v - 20) % 10] || s[v] || s[0]);
          }

          // A same-origin path the API gave for a picture, or null.
          function picturePath(value) {
            return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : null;
          }

          function why(result, index, all) {
            const explanation = result.explanation && typeof result.explanation === "object" ? result.explanation : {};
            const table = element("table", { class: "why" },
              element("caption", {}, "Why here: score by stage"));
            const head = element("tr", {}, element("th", { scope: "col" }, "stage"), element("th", { scope: "col" }, "score"),
              element("th", { scope: "col" }, element("span", { class: "visually-hidden" }, "relative to the best shown")));
            table.append(element("thead", { class: "visually-hidden" }, head));
            const body = element("tbody");
            for (const key of stageKeys(explanation)) {
              const value = explanation[key];
              if (typeof value !== "number") continue;
              // Where this score puts the item among the shown results, and a bar against the best of them.
              const values = all.map((r) => (r.explanation || {})[key]).filter((v) => typeof v === "number");
              const best = Math.max(...values.map((v) => Math.abs(v)));
              const place = 1 + values.filter((v) => v > value).length;
              const meter = element("meter", { min: "0", max: "1", value: String(best > 0 ? Math.max(0, value) / best : 0),
                "aria-label": `${key}: ${ordinal(place)} of ${values.length} shown` });
              const row = element("tr", { "data-stage": key },
                element("th", { scope: "row" }, key),
                element("td", { class: "value" }, format(value)),
                element("td", { class: "bar" }, meter));
              row.title = `${key} ${format(value)}: ${ordinal(place)} of ${values.length} shown`;
              body.append(row);
            }
            table.append(body);
            return table;
          }

          // The retrievers' scores, in the order fusion reads them.
          const retrievers = ["caption", "text→image", "image", "keyword"];

          // "1st by caption · 3rd by keyword": where each retriever's score places the
          // item among the results shown; fusion (RRF by default) ranks by these places.
          function places(result, all) {
            const explanation = result.explanation && typeof result.explanation === "object" ? result.explanation : {};
            const parts = retrievers.filter((key) => typeof explanation[key] === "number").map((key) => {
              const higher = all.filter((r) => typeof (r.explanation || {})[key] === "number" && r.explanation[key] > explanation[key]);
              return `${ordinal(higher.length + 1)} by ${key}`;
            });
            const missing = retrievers.filter((key) => all.some((r) => typeof (r.explanation || {})[key] === "number")
              && typeof explanation[key] !== "number");
            for (const key of missing) parts.push(`not found by ${key}`);
            return parts.length ? element("p", { class: "places" }, parts.join(" · ")) : null;
          }

          function matched(result) {
            const terms = result.matchedTerms && typeof result.matchedTerms === "object" ? result.matchedTerms : {};
            const fields = Object.keys(terms).filter((f) => Array.isArray(terms[f]) && terms[f].length);
            if (!fields.length) return null;
            const line = element("p", { class: "terms" }, "Matched keywords: ");
            fields.sort().forEach((field, i) => {
              if (i) line.append("; ");
              line.append(`${field}: `);
              terms[field].forEach((term, j) => {
                if (j) line.append(" ");
                line.append(element("mark", {}, String(term)));
              });
            });
            return line;
          }

          function card(result, index, all) {
            const id = result.id;
            const caption = typeof result.caption === "string" && result.caption ? result.caption : `Item ${id}`;
            const item = element("li", { class: "card", "data-id": String(id) });
            const path = picturePath(result.picture);
            if (path) {
              const img = element("img", { class: "thumb", alt: caption, loading: "lazy", decoding: "async" });
              img.src = path;
              item.append(img);
            } else {
              item.append(element("div", { class: "thumb missing", role: "img", "aria-label": "no picture" }, "no picture"));
            }
            const rank = typeof result.rank === "number" ? result.rank : index + 1;
            item.append(element("h2", {}, element("span", { class: "rank" }, `${rank}. `), caption));
            item.append(element("p", { class: "score" }, "score ", element("strong", { class: "score-value" }, format(result.score))));
            const place = places(result, all);
            if (place) item.append(place);
            item.append(why(result, index, all));
            const terms = matched(result);
            if (terms) item.append(terms);
            const meta = [`id ${id}`];
            if (typeof result.category === "string" && result.category) meta.push(result.category);
            if (Array.isArray(result.tags) && result.tags.length) meta.push("tags: " + result.tags.join(", "));
            item.append(element("p", { class: "meta" }, meta.join(" · ")));
            const save = element("button", { type: "button", class: "save", "aria-pressed": "false" }, "Save");
            const hide = element("button", { type: "button", class: "hide secondary", "aria-pressed": "false" }, "Hide");
            save.setAttribute("aria-label", `Save ${caption}`);
            hide.setAttribute("aria-label", `Hide ${caption}`);
            save.addEventListener("click", () => engage(item, save, "save", caption, id));
            hide.addEventListener("click", () => engage(item, hide, "hide", caption, id));
            item.append(element("div", { class: "actions" }, save, hide));
            return item;
          }

          async function engage(item, button, kind, caption, id) {
            if (button.getAttribute("aria-pressed") === "true") return;
            button.disabled = true;
            clearError();
            try {
              const response = await fetch("/v1/events", {
                method: "POST", headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ userID: userID(), itemID: id, kind }),
              });
              if (!response.ok) { await failure(response, `Could not record "${kind}".`); return; }
              button.setAttribute("aria-pressed", "true");
              button.textContent = kind === "save" ? "Saved" : "Hidden";
              if (kind === "hide") item.classList.add("hidden-item");
              say(kind === "save" ? `Saved "${caption}".` : `Hidden "${caption}".`);
            } catch (error) {
              showError(`Could not record "${kind}".`, null, `The server did not answer (${error.message}).`);
            } finally {
              button.disabled = false;
            }
          }

          async function search(event) {
            if (event) event.preventDefault();
            if (busy) return;
            clearError();
            const text = query.value.trim();
            if (!text && !picture) {
              showError("Nothing to search for.", null, "Type some words or choose a picture.");
              query.focus();
              return;
            }
            const body = { userID: userID() };
            if (text) body.text = text;
            if (picture) body.image = picture.base64;
            const k = $("k").value.trim();
            if (k) body.k = Number(k);
            const minRelevance = $("min-relevance").value.trim();
            if (minRelevance) body.minRelevance = Number(minRelevance);
            busy = true;
            setState("searching");
            say("Searching…");
            $("search-button").disabled = true;
            try {
              const response = await fetch("/v1/search", {
                method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
              });
              if (!response.ok) {
                await failure(response, "The search failed.");
                say("");
                setState("error");
                return;
              }
              const answer = await response.json();
              const list = Array.isArray(answer.results) ? answer.results : [];
              results.replaceChildren(...list.map((r, i) => card(r, i, list)));
              const took = typeof answer.tookMs === "number" ? ` in ${format(answer.tookMs)} ms` : "";
              const cache = typeof answer.queryCache === "string" ? ` (query embedding cache: ${answer.queryCache})` : "";
              say(`${list.length} result${list.length === 1 ? "" : "s"}${took}${cache}.`);
              setState("results");
            } catch (error) {
              showError("The search failed.", null, `The server did not answer (${error.message}).`);
              say("");
              setState("error");
            } finally {
              busy = false;
              $("search-button").disabled = false;
            }
          }

          function choose(file) {
            clearError();
            if (!file) return;
            if (!/^image\/(jpeg|png)$/.test(file.type)) {
              showError("That file is not a JPEG or PNG picture.", null, `${file.name} (${file.type || "unknown type"})`);
              return;
            }
            const reader = new FileReader();
            reader.onload = () => {
              const data = String(reader.result);
              if (picture) URL.revokeObjectURL(picture.url);
              picture = { name: file.name, base64: data.slice(data.indexOf(",") + 1), url: URL.createObjectURL(file) };
              $("picture-preview").src = picture.url;
              $("picture-name").textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB)`;
              $("picture-chosen").hidden = false;
              dropZone.dataset.picture = file.name;
              say(`Picture "${file.name}" chosen; press Search.`);
            };
            reader.onerror = () => showError("Could not read the picture.", null, String(reader.error));
            reader.readAsDataURL(file);
          }

          function clearPicture() {
            if (picture) URL.revokeObjectURL(picture.url);
            picture = null;
            pictureInput.value = "";
            $("picture-chosen").hidden = true;
            $("picture-preview").removeAttribute("src");
            delete dropZone.dataset.picture;
            say("Picture removed.");
            pictureInput.focus();
          }

          async function describe() {
            try {
              const response = await fetch("/v1/collection");
              if (!response.ok) { await failure(response, "Could not read the collection."); return; }
              const c = await response.json();
              const parts = [`${Number(c.count).toLocaleString("en")} items`];
              if (c.keywordIndex) parts.push("keyword index");
              parts.push(c.pictureQueries ? "picture queries" : "no picture encoder");
              $("collection").textContent = parts.join(" · ");
              document.body.dataset.collection = "loaded";
              if (c.pictureQueries === false) {
                $("drop-help").textContent = "This collection has no picture encoder, so it cannot be searched with a picture.";
                pictureInput.disabled = true;
              }
            } catch (error) {
              showError("Could not reach the server.", null, error.message);
            }
          }

          form.addEventListener("submit", search);
          pictureInput.addEventListener("change", () => choose(pictureInput.files[0]));
          $("picture-clear").addEventListener("click", clearPicture);
          for (const type of ["dragenter", "dragover"]) {
            dropZone.addEventListener(type, (e) => {
              e.preventDefault();
              if (!pictureInput.disabled) dropZone.classList.add("over");
            });
          }
          dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
          dropZone.addEventListener("drop", (e) => {
            e.preventDefault();
            dropZone.classList.remove("over");
            if (!pictureInput.disabled && e.dataTransfer && e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
          });
          // A dropped file outside the zone must not navigate away from the page.
          window.addEventListener("dragover", (e) => e.preventDefault());
          window.addEventListener("drop", (e) => e.preventDefault());
          document.addEventListener("paste", (e) => {
            const file = e.clipboardData && e.clipboardData.files[0];
            if (file && !pictureInput.disabled) choose(file);
          });
          query.addEventListener("keydown", (e) => {
            if (e.key === "Escape") { query.value = ""; }
          });
          try { $("user").value = localStorage.getItem("mms-user") || ""; } catch (_) { /* storage off */ }
          setState("ready");
          describe();
          query.focus();
        })();
        </script>
        </body>
        </html>
        """#
}
