#!/usr/bin/env python3
"""Drives the search page that `mms serve` serves in headless Chromium.

Chromium is controlled through its DevTools protocol over a pipe (file
descriptors 3 and 4, `--remote-debugging-pipe`), with the standard library
only: no port, no WebSocket client, nothing to install. Every interaction is a
real input event (mouse clicks at an element's position, typed text, key
presses, a file set on the file picker, a file dragged onto the drop zone), and
every check reads the page's DOM or asks the server.

Usage: check-page.py --url http://127.0.0.1:PORT --picture FILE --expect TEXT
           --api-key KEY --screenshot OUT.png [--chromium PATH]
Prints one line per check and a closing "N passed, M failed" line; exits 1 when
any check failed.
"""

import argparse
import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib

WIDTH, HEIGHT = 1200, 900


class Browser:
    """One headless Chromium and its DevTools pipe."""

    def __init__(self, chromium, profile):
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire():  # in the child: the pipe's ends become fds 3 and 4
            a, b = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-pipe",
                 "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                 f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"]
        self.process = subprocess.Popen([chromium] + flags, preexec_fn=wire, close_fds=False,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next = 0
        self.events = []
        self.session = None

    def _read(self, deadline):
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe (did it crash?)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True, timeout=30):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Page:
    """The page under test, through one attached target."""

    def __init__(self, browser):
        self.b = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        browser.session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                       session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "DOM"):
            browser.call(f"{domain}.enable")
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})

    def js(self, expression):
        reply = self.b.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"page script failed: {reply['exceptionDetails'].get('text')}: {expression[:80]}")
        return reply["result"].get("value")

    def wait(self, expression, timeout=30, what=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(expression):
                return True
            time.sleep(0.05)
        raise TimeoutError(f"timed out waiting for {what or expression}")

    def center(self, selector):
        box = self.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            if (!e) return null; e.scrollIntoView({{block: "center"}}); const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
        if box is None:
            raise RuntimeError(f"no element {selector}")
        return box

    def click(self, selector):
        x, y = self.center(selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.b.call("Input.dispatchMouseEvent",
                        {"type": kind, "x": x, "y": y, "button": "left" if kind != "mouseMoved" else "none",
                         "clickCount": 1})

    def type(self, text):
        self.b.call("Input.insertText", {"text": text})

    def key(self, key, code, keycode, text=None):
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": keycode}
        if text:
            down["text"] = text
        self.b.call("Input.dispatchKeyEvent", down)
        self.b.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code,
                                                "windowsVirtualKeyCode": keycode})

    def node(self, selector):
        root = self.b.call("DOM.getDocument")["root"]["nodeId"]
        return self.b.call("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]

    def drag_file(self, selector, path):
        x, y = self.center(selector)
        data = {"items": [], "files": [path], "dragOperationsMask": 1}
        for kind in ("dragEnter", "dragOver", "drop"):
            self.b.call("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})

    def screenshot(self):
        return base64.b64decode(self.b.call("Page.captureScreenshot", {"format": "png"})["data"])


def png_pixels(data):
    """Width, height and the RGB(A) rows of an 8-bit non-interlaced PNG (what Chromium writes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unexpected PNG format (depth {depth}, color type {color}, interlace {interlace})")
    channels = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def http(url, body=None, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
        return json.loads(raw) if response.headers.get_content_type() == "application/json" else raw.decode()


def events_recorded(base):
    """The count of answered POST /v1/events requests, from the Prometheus metrics."""
    total = 0.0
    for line in http(base + "/metrics").splitlines():
        if line.startswith("mms_http_requests_total{") and 'route="/v1/events"' in line and 'status="200"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--picture", required=True, help="a picture of the collection, to search with")
    parser.add_argument("--expect", required=True, help="caption of the item the word query must rank first")
    parser.add_argument("--query", required=True, help="the words to search for")
    parser.add_argument("--api-key", required=True, help="a write key of the server (to add the hostile item)")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args()
    base = args.url.rstrip("/")
    passed, failed = [], []

    def check(name, condition, detail=""):
        (passed if condition else failed).append(name)
        print(("ok: " if condition else "FAILED: ") + name + ("" if condition or not detail else f" ({detail})"),
              flush=True)

    if not args.chromium:
        check("a headless Chromium is installed", False)
        print(f"{len(passed)} passed, {len(failed)} failed")
        return 1

    profile = tempfile.mkdtemp(prefix="mms-page-")
    browser = Browser(args.chromium, profile)
    try:
        page = Page(browser)
        page.b.call("Page.navigate", {"url": base + "/"})
        page.wait("document.readyState === 'complete' && document.body.dataset.collection === 'loaded'",
                  what="the page to load and describe the collection")
        check("the page describes the collection", "items" in page.js("document.getElementById('collection').textContent"))
        check("the query box has focus and a label",
              page.js("document.activeElement.id === 'query' && document.querySelector('label[for=query]') !== null"))
        unlabelled = page.js("""Array.from(document.querySelectorAll('input, select, textarea'))
            .filter(e => !e.labels || e.labels.length === 0).map(e => e.id || e.name)""")
        check("every form control has a label", unlabelled == [], f"unlabelled: {unlabelled}")

        # A word query, typed and submitted with the Enter key.
        before = events_recorded(base)
        page.type(args.query)
        page.key("Enter", "Enter", 13, "\r")
        page.wait("document.body.dataset.state === 'results' || document.body.dataset.state === 'error'",
                  what="the word query's results")
        cards = page.js("""Array.from(document.querySelectorAll('#results > li.card')).map(li => ({
            id: li.dataset.id, caption: li.querySelector('h2').textContent,
            score: li.querySelector('.score-value').textContent,
            stages: Array.from(li.querySelectorAll('table.why tbody tr')).map(r => r.dataset.stage),
            values: Array.from(li.querySelectorAll('table.why td.value')).map(td => td.textContent),
            terms: Array.from(li.querySelectorAll('.terms mark')).map(m => m.textContent),
            places: (li.querySelector('.places') || {}).textContent || '',
            img: li.querySelector('img.thumb') ? li.querySelector('img.thumb').getAttribute('src') : null }))""")
        answer = http(base + "/v1/search", {"text": args.query, "k": 12})
        check("the word query renders one card per result the API returns",
              len(cards) == len(answer["results"]) and len(cards) > 0, f"{len(cards)} cards, {len(answer['results'])} results")
        check(f"the first card is \"{args.expect}\"", bool(cards) and args.expect in cards[0]["caption"],
              cards[0]["caption"] if cards else "no cards")
        check("every card shows its score as the API gave it",
              all(re.fullmatch(r"-?[0-9.]+(e[-+][0-9]+)?", c["score"]) for c in cards) and
              all(abs(float(c["score"]) - r["score"]) <= 5e-4 * max(1.0, abs(r["score"]))
                  for c, r in zip(cards, answer["results"])),
              str([c["score"] for c in cards]))
        check("every card lists every stage score of the explanation",
              all(set(c["stages"]) == {k for k, v in r["explanation"].items() if isinstance(v, (int, float))}
                  and len(c["stages"]) >= 2 for c, r in zip(cards, answer["results"])),
              str([c["stages"] for c in cards][:3]))
        def ordinal(n):
            return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"

        def expected_places(result):
            parts = []
            for key in ("caption", "text→image", "image", "keyword"):
                value = result["explanation"].get(key)
                if isinstance(value, (int, float)):
                    higher = sum(1 for r in answer["results"]
                                 if isinstance(r["explanation"].get(key), (int, float)) and r["explanation"][key] > value)
                    parts.append(f"{ordinal(higher + 1)} by {key}")
            return parts

        check("every card says where each retriever's score places it among the results",
              all(all(part in c["places"] for part in expected_places(r)) and expected_places(r)
                  for c, r in zip(cards, answer["results"])),
              str([(c["places"], expected_places(r)) for c, r in zip(cards, answer["results"])][:2]))
        matched_api = [sorted(t for ts in r.get("matchedTerms", {}).values() for t in ts) for r in answer["results"]]
        check("matched keywords are shown as the API returns them",
              [sorted(c["terms"]) for c in cards] == matched_api and any(matched_api), str(matched_api[:3]))
        page.wait("Array.from(document.querySelectorAll('img.thumb')).every(i => i.complete)", what="thumbnails")
        loaded = page.js("""(() => { const i = Array.from(document.querySelectorAll('img.thumb'));
            return [i.filter(x => x.naturalWidth > 0).length, i.length]; })()""")
        check("every thumbnail loads from the server", loaded[1] > 0 and loaded[0] == loaded[1], f"{loaded[0]}/{loaded[1]}")

        shot = page.screenshot()
        with open(args.screenshot, "wb") as out:
            out.write(shot)
        width, height, channels, rows = png_pixels(shot)
        colours = {row[i:i + 3] for row in rows[::7] for i in range(0, len(row), channels * 7)}
        check(f"the screenshot is a {WIDTH}×{HEIGHT} PNG", (width, height) == (WIDTH, HEIGHT), f"{width}×{height}")
        check("the screenshot is not blank (many colours)", len(colours) > 50, f"{len(colours)} colours sampled")

        # Save the first result with a real mouse click; the server records the event.
        first_id = cards[0]["id"] if cards else None
        page.click("#results > li.card:first-child button.save")
        page.wait("document.querySelector('#results > li.card:first-child button.save')"
                  ".getAttribute('aria-pressed') === 'true' || !document.getElementById('error').hidden",
                  what="the save to be acknowledged")
        check("a click on Save marks the card saved",
              page.js("document.querySelector('#results > li.card:first-child button.save').textContent") == "Saved")
        after_save = events_recorded(base)
        check("the server recorded the save (POST /v1/events answered 200 once more)", after_save == before + 1,
              f"{before} → {after_save}")
        # Hide the second result from the keyboard: focus its button, press Space.
        page.js("document.querySelector('#results > li.card:nth-child(2) button.hide').focus()")
        page.key(" ", "Space", 32, " ")
        page.wait("document.querySelector('#results > li.card:nth-child(2)').classList.contains('hidden-item')"
                  " || !document.getElementById('error').hidden", what="the hide to be acknowledged")
        check("Space on a focused Hide hides that card",
              page.js("document.querySelector('#results > li.card:nth-child(2)').classList.contains('hidden-item')"))
        check("the server recorded the hide", events_recorded(base) == before + 2)
        # The events reach the ranking: the same query for the same user now ranks with them.
        user = page.js("document.getElementById('user').value")
        again = {r["id"]: r for r in http(base + "/v1/search", {"text": args.query, "k": 12, "userID": user})["results"]}
        saved = again.get(int(first_id)) if first_id else None
        check("the saved item now carries a positive engagement score for this user",
              saved is not None and saved["explanation"].get("engagement", 0) > 0,
              str(saved and saved["explanation"]))
        hidden = again.get(int(cards[1]["id"])) if len(cards) > 1 else None
        check("the hidden item is gone or demoted for this user",
              len(cards) > 1 and (hidden is None or hidden["explanation"].get("engagement", 0) < 0),
              str(hidden and hidden["explanation"]))
        logged = [e for e in browser.events if e.get("method") == "Network.requestWillBeSent"
                  and e["params"]["request"]["url"].endswith("/v1/events")]
        bodies = [json.loads(e["params"]["request"].get("postData", "{}")) for e in logged]
        check("the events carry the item ids and kinds clicked",
              [(b.get("itemID"), b.get("kind")) for b in bodies] ==
              [(int(first_id), "save"), (int(cards[1]["id"]), "hide")] if len(cards) > 1 else False, str(bodies))

        # The API's error JSON is shown: k = 0 is refused by the server.
        page.js("document.getElementById('k').value = '0'")
        page.click("#search-button")
        page.wait("document.body.dataset.state === 'error'", what="the error for k = 0")
        shown = page.js("""[document.getElementById('error').hidden, document.getElementById('error-code').textContent,
            document.getElementById('error-message').textContent]""")
        check("an API error is shown with its code and message",
              shown[0] is False and shown[1] == "invalidArgument" and "k" in shown[2], str(shown))
        page.js("document.getElementById('k').value = '12'")

        # A picture through the file picker, then another one dragged onto the drop zone.
        picture_queries = http(base + "/v1/collection").get("pictureQueries")
        if picture_queries:
            page.b.call("DOM.setFileInputFiles", {"files": [os.path.abspath(args.picture)], "nodeId": page.node("#picture")})
            page.wait("document.getElementById('picture-chosen').hidden === false", what="the chosen picture")
            page.js("document.getElementById('query').value = ''")
            page.click("#search-button")
            page.wait("document.body.dataset.state === 'results' || document.body.dataset.state === 'error'",
                      what="the picture query's results")
            first = page.js("(document.querySelector('#results > li.card h2') || {}).textContent || ''")
            check("a picture chosen with the file picker finds its own item first", args.expect in first, first)
            page.click("#picture-clear")
            page.drag_file("#drop-zone", os.path.abspath(args.picture))
            page.wait("document.getElementById('drop-zone').dataset.picture !== undefined", timeout=10,
                      what="the dropped picture")
            check("a picture dragged onto the drop zone is taken as the query picture",
                  page.js("document.getElementById('drop-zone').dataset.picture") == os.path.basename(args.picture))
        else:
            check("the collection takes picture queries (the test collection needs a picture encoder)", False)

        # Hostile text from the API stays text.
        hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> hostile caption'
        http(base + "/v1/items", {"items": [{"id": 990001, "caption": hostile, "category": "hostile"}]}, key=args.api_key)
        page.js("document.getElementById('picture-clear').click()")
        page.js("document.getElementById('query').value = 'hostile caption'")
        page.click("#search-button")
        page.wait("document.body.dataset.state === 'results' || document.body.dataset.state === 'error'",
                  what="the hostile caption's results")
        xss = page.js("""[window.__pwned === undefined,
            Array.from(document.querySelectorAll('#results h2')).some(h => h.textContent.includes('<img src=x')),
            document.querySelectorAll('#results img:not(.thumb), #results script').length]""")
        check("a caption with markup is shown as text, never run", xss[0] is True and xss[1] is True and xss[2] == 0,
              str(xss))

        exceptions = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        check("no script error on the page", not exceptions,
              str([e["params"]["exceptionDetails"].get("text") for e in exceptions]))
        urls = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
        foreign = sorted(u for u in urls if not (u.startswith(base + "/") or u.startswith(("data:", "blob:"))))
        check("the page loads nothing from anywhere but the server", not foreign, str(foreign))
    except Exception as error:  # a broken step fails the run, with what broke
        check(f"the page test ran to the end: {type(error).__name__}: {error}", False)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"{len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
