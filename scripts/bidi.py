"""Headless Firefox driven through WebDriver BiDi (Firefox no longer speaks the DevTools protocol), with the same
methods as `cdp.Browser`, so that `scripts/topology-view-check --browser firefox` runs the same checks.

Needs Debian's `firefox-esr` and `python3-websocket` (for /usr/bin/python3); `scripts/test` installs both as root.
"""

import base64
import json
import shutil
import subprocess
import tempfile
import time

import websocket

from cdp import BrowserError, free_port


class Firefox:
    """One headless Firefox with one browsing context."""

    def __init__(self, width=1280, height=800):
        self.profile = tempfile.mkdtemp(prefix="tatsu-firefox-")
        port = free_port()
        self.process = subprocess.Popen(
            ["firefox-esr", "--headless", "--no-remote", "--profile", self.profile, "--remote-debugging-port",
             str(port)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.socket = None
        try:
            deadline = time.time() + 60
            while self.socket is None:
                try:
                    self.socket = websocket.create_connection("ws://127.0.0.1:%d/session" % port, timeout=60,
                                                              suppress_origin=True)
                except OSError:
                    if time.time() > deadline or self.process.poll() is not None:
                        raise BrowserError("firefox did not offer a WebDriver BiDi session")
                    time.sleep(0.2)
            self.call("session.new", capabilities={})
            self.context = self.call("browsingContext.getTree")["contexts"][0]["context"]
            self.call("browsingContext.setViewport", context=self.context, viewport={"width": width, "height": height})
        except Exception:
            self.close()
            raise

    def call(self, method, **params):
        """Sends one command and returns its result (events are not subscribed to)."""
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if message.get("type") == "error":
                    raise BrowserError("%s: %s: %s" % (method, message.get("error"), message.get("message")))
                return message["result"]

    def evaluate(self, expression, await_promise=False):
        """The JSON value of a JavaScript expression in the page (passed through JSON.stringify there)."""
        wrapped = "(async () => JSON.stringify(await (%s)))()" % expression
        result = self.call("script.evaluate", expression=wrapped, target={"context": self.context},
                           awaitPromise=True)
        if result.get("type") == "exception":
            raise BrowserError("script failed: %s" % result["exceptionDetails"].get("text"))
        value = result["result"].get("value")
        return None if value is None else json.loads(value)

    def navigate(self, url, timeout=30):
        """Opens `url` and waits for its load event."""
        self.call("browsingContext.navigate", context=self.context, url=url, wait="complete")

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
        pointer = [{"type": "pointerMove", "x": round(box[0]), "y": round(box[1])},
                   {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]
        self.call("input.performActions", context=self.context,
                  actions=[{"type": "pointer", "id": "mouse", "actions": pointer}])

    def screenshot(self, path):
        """Writes a PNG of the page to `path`."""
        data = self.call("browsingContext.captureScreenshot", context=self.context)["data"]
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
