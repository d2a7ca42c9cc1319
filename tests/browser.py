"""Headless Chromium driven over the Chrome DevTools protocol, on a pipe (no extra package, no
chromedriver): Chromium reads commands on its fd 3 and writes replies on fd 4, one JSON message
each, ended by a NUL byte."""
import base64
import fcntl
import json
import os
import select
import subprocess
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         # containers often give /dev/shm only 64 MB: Chromium then stalls instead of failing
         "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad",
         "--remote-debugging-pipe"]
# a cold first start on a fresh, loaded machine (fonts, caches, the profile) can take a while
STARTUP_TIMEOUT = 120


class BrowserError(RuntimeError):
    pass


class Browser:
    """One Chromium page. `call(method, **params)` sends a protocol command and returns its
    result; `evaluate(js)` runs JavaScript in the page and returns the value."""

    def __init__(self, chromium, user_data_dir, width=1100, height=900, timeout=30):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # fds >= 100 first, so that the dup2 onto 3 and 4 below cannot clobber one another
        keep_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
        keep_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)

        def pipes_on_3_and_4():
            os.dup2(keep_r, 3)
            os.dup2(keep_w, 4)
        self.timeout = timeout
        os.makedirs(user_data_dir, exist_ok=True)
        # Chromium's own messages go to a file, so that a failed start can say why
        self.log_path = os.path.join(user_data_dir, "chromium.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [chromium, *FLAGS, f"--user-data-dir={user_data_dir}",
                 f"--window-size={width},{height}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                preexec_fn=pipes_on_3_and_4, close_fds=False)
        for fd in (to_chrome_r, from_chrome_w, keep_r, keep_w):
            os.close(fd)
        self._next_id, self._buffer, self.events, self.session = 0, b"", [], None
        try:
            target = self.call("Target.createTarget", url="about:blank",
                               timeout=STARTUP_TIMEOUT)["targetId"]
        except BrowserError as e:
            self.close()
            raise BrowserError(f"{e} at start; its log ends:\n{self.log_tail()}") from None
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise BrowserError("Chromium closed its pipe (it exited)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def log_tail(self, lines=30):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def call(self, method, timeout=None, **params):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def open(self, url):
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.05)
        raise BrowserError(f"timed out waiting for {expression}")

    def stroke(self, points, pointer="mouse"):
        """Draw through `points` (page coordinates) with a mouse, a pen or a finger."""
        if pointer == "touch":
            self.call("Input.dispatchTouchEvent", type="touchStart",
                      touchPoints=[{"x": points[0][0], "y": points[0][1]}])
            for x, y in points[1:]:
                self.call("Input.dispatchTouchEvent", type="touchMove",
                          touchPoints=[{"x": x, "y": y}])
            self.call("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
            return
        x, y = points[0]
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, pointerType=pointer)
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left",
                  buttons=1, clickCount=1, pointerType=pointer)
        for x, y in points[1:]:
            self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left",
                      buttons=1, pointerType=pointer)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left",
                  buttons=0, clickCount=1, pointerType=pointer)

    def click(self, x, y):
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                      buttons=1 if kind == "mousePressed" else 0, clickCount=1)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.session = None
            self.call("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
