"""Headless Chromium driven through the Chrome DevTools Protocol, for the topology view's test and benchmark
(`scripts/topology-view-check`, `scripts/bench-topology-view`).

Needs Debian's `chromium` and `python3-websocket` (for /usr/bin/python3); `scripts/test` installs both as root.
The browser gets its own profile directory and a free loopback port for the protocol, and is ended by `close()`.
"""

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import websocket


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BrowserError(Exception):
    """A protocol call failed, or a script threw."""


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, width=1280, height=800):
        self.profile = tempfile.mkdtemp(prefix="tatsu-chromium-")
        port = free_port()
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=%d" % port,
             "--user-data-dir=%s" % self.profile, "--window-size=%d,%d" % (width, height), "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.events = []
        self.socket = None
        try:
            target = self._page_target(port)
            # Chromium refuses protocol connections that carry an Origin it was not told to allow.
            self.socket = websocket.create_connection(target, timeout=60, suppress_origin=True)
            self.call("Page.enable")
            self.call("Runtime.enable")
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
        except Exception:
            self.close()
            raise

    def _page_target(self, port):
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=2) as response:
                    targets = json.loads(response.read().decode())
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            if time.time() > deadline or self.process.poll() is not None:
                raise BrowserError("chromium did not offer a page to drive")
            time.sleep(0.1)

    def call(self, method, **params):
        """Sends one command and returns its result (events that arrive meanwhile are kept in `events`)."""
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression, await_promise=False):
        """The JSON value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError("script failed: %s" % details.get("exception", {}).get("description", details))
        return result["result"].get("value")

    def navigate(self, url, timeout=30):
        """Opens `url` and waits for its load event."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.time() + timeout
        self.socket.settimeout(1)
        try:
            while not any(e["method"] == "Page.loadEventFired" for e in self.events):
                if time.time() > deadline:
                    raise BrowserError("%s did not load within %s s" % (url, timeout))
                try:
                    message = json.loads(self.socket.recv())
                except websocket.WebSocketTimeoutException:
                    continue
                if "method" in message:
                    self.events.append(message)
        finally:
            self.socket.settimeout(60)

    def wait_for(self, expression, timeout, interval=0.05):
        """Evaluates `expression` until it is truthy; its last value and the seconds waited."""
        started = time.time()
        while True:
            value = self.evaluate(expression)
            if value or time.time() - started >= timeout:
                return value, time.time() - started
            time.sleep(interval)

    def click(self, selector):
        """A real mouse click (press and release) in the middle of the first element `selector` finds."""
        box = self.evaluate("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                            " return [r.left + r.width / 2, r.top + r.height / 2]; })()" % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path):
        """Writes a PNG of the page to `path`."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))

    def close(self):
        try:
            if self.socket is not None:
                self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)
