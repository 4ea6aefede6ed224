#!/usr/bin/env python3
"""Loads a page in a real headless Chromium and reports what a person would see, as one JSON line.

Usage: browser_check.py URL SCREENSHOT.png

Chromium (Debian's `chromium`) is driven over the DevTools protocol (websocket-client, PyPI): the page is loaded,
every console message, uncaught exception, failed request and JavaScript dialog is recorded, the DOM is read after
the load event, and a full-page screenshot is written. Prints `PORT 0` first (the HelperProcess convention), then
the JSON report, then exits. Only loopback is ever contacted: the URL is the test's own server.
"""
import base64, json, os, shutil, subprocess, sys, tempfile, time

import websocket  # websocket-client

DOM_QUERY = r"""
JSON.stringify({
  title: document.title,
  banner: (document.querySelector('.banner') || {}).textContent || null,
  monitors: [...document.querySelectorAll('li.monitor')].map(m => ({
    name: m.querySelector('.name').textContent,
    status: m.querySelector('.status').textContent,
    bars: m.querySelectorAll('.bars > li').length,
    bar_classes: [...m.querySelectorAll('.bars > li')].map(b => b.className),
    uptime: m.querySelector('.uptime').textContent,
    sparkline_points: (m.querySelector('polyline') || {getAttribute: () => ''}).getAttribute('points'),
  })),
  open_incidents: [...document.querySelectorAll('.incidents.open .incident')].map(i => i.textContent),
  recent_incidents: [...document.querySelectorAll('.incidents.recent .incident')].map(i => i.textContent),
  scripts: document.scripts.length,
  injected_elements: document.querySelectorAll('main script, main img, main iframe').length,
})
"""


def main():
    url, screenshot = sys.argv[1], sys.argv[2]
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        print("ERROR chromium is not installed (apt-get install chromium; .ci/run does)", flush=True)
        return 1
    profile = tempfile.mkdtemp(prefix="uptick-chromium-")
    process = subprocess.Popen(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--metrics-recording-only",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1100,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # At the lowest priority: the suite's timing-sensitive tests run meanwhile on the same two cores.
        preexec_fn=lambda: os.nice(19))
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if time.time() > deadline or process.poll() is not None:
                print("ERROR chromium did not start", flush=True)
                return 1
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        targets = json.loads(_get(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t.get("type") == "page")
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        session = Session(ws)
        for domain in ("Page", "Runtime", "Log", "Network"):
            session.call(f"{domain}.enable")
        session.call("Page.navigate", {"url": url})
        session.wait_for("Page.loadEventFired", 30)
        dom = json.loads(session.call("Runtime.evaluate", {"expression": DOM_QUERY, "returnByValue": True})["result"]["value"])
        shot = session.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        session.drain(0.3)  # late console messages (a CSP report comes after the load event)
        print("PORT 0", flush=True)
        print(json.dumps({"dom": dom, "errors": session.errors, "dialogs": session.dialogs}), flush=True)
        return 0
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _get(url):
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


class Session:
    def __init__(self, ws):
        self.ws, self.next_id, self.errors, self.dialogs, self.events = ws, 0, [], [], []

    def call(self, method, params=None):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._event(message)

    def wait_for(self, event, limit):
        deadline = time.time() + limit
        while not any(e == event for e in self.events):
            if time.time() > deadline:
                raise RuntimeError(f"no {event} within {limit} s")
            self._event(json.loads(self.ws.recv()))

    def drain(self, seconds):
        self.ws.settimeout(seconds)
        try:
            while True:
                self._event(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass

    def _event(self, message):
        method, params = message.get("method"), message.get("params", {})
        if not method:
            return
        self.events.append(method)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            self.errors.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            self.errors.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.loadingFailed":
            self.errors.append("request failed: " + params.get("errorText", ""))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(params.get("message", ""))


if __name__ == "__main__":
    sys.exit(main())
