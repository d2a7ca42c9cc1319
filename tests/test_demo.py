"""The draw-a-digit demo: MNIST-style preprocessing, the server under crafted requests, and the
page end to end in headless Chromium (strokes drawn with a mouse, a pen and a finger)."""
import base64
import http.client
import json
import math
import os
import shutil
import socket
import threading

import numpy as np
import pytest

import oracles
from mgp.demo.digits import CANVAS, mnist_like, train_model
from mgp.demo.server import MAX_BODY, DemoServer, DigitService

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- preprocessing ------------------------------------------------------------------------------

def test_mnist_like_scales_the_box_to_20_and_centres_the_mass():
    drawing = np.zeros((CANVAS, CANVAS))
    drawing[10:110, 30:80] = 1.0  # a 100 x 50 block of ink
    digit = mnist_like(drawing)
    rows, cols = np.nonzero(digit > 0.5)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 10
    total = digit.sum()
    cy = (digit.sum(axis=1) * np.arange(28)).sum() / total
    cx = (digit.sum(axis=0) * np.arange(28)).sum() / total
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    assert digit.dtype == np.float32 and 0 <= digit.min() and digit.max() <= 1
    assert not mnist_like(np.zeros((CANVAS, CANVAS))).any()


# ---- the server under careless and hostile requests --------------------------------------------

@pytest.fixture(scope="module")
def model():
    model, accuracy = train_model(samples=20000, epochs=2, verbose=0)
    assert accuracy > 0.9, accuracy
    return model, accuracy


@pytest.fixture(scope="module")
def server(model):
    server = DemoServer(DigitService(*model), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _request(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def _drawing_body(**change):
    pixels = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    pixels[20:120, 65:78] = 255  # a "1"
    fields = {"width": CANVAS, "height": CANVAS,
              "pixels": base64.b64encode(pixels.tobytes()).decode()}
    fields.update(change)
    return json.dumps({k: v for k, v in fields.items() if v is not ...}).encode()


JSON = {"Content-Type": "application/json"}


def test_the_page_and_the_model_info(server):
    status, kind, body = _request(server, "GET", "/")
    assert status == 200 and kind.startswith("text/html")
    page = body.decode()
    assert "<canvas id=\"pad\"" in page and "pointerdown" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere
    status, _, body = _request(server, "GET", "/api/model")
    info = json.loads(body)
    assert status == 200 and info["kernel_size"] == [3, 3] and len(info["filters"]) == 8
    assert info["parameters"] == 5258


def test_a_good_drawing_gets_ten_probabilities_the_digit_and_maps(server):
    status, kind, body = _request(server, "POST", "/api/predict", _drawing_body(), JSON)
    result = json.loads(body)
    assert status == 200 and kind == "application/json"
    assert len(result["probabilities"]) == 10 and abs(sum(result["probabilities"]) - 1) < 1e-4
    assert result["class"] == int(np.argmax(result["probabilities"])) == 1
    assert len(result["digit"]) == 784 and result["map_size"] == [26, 26]
    assert len(result["maps"]) == 8 and all(len(m) == 676 for m in result["maps"])


BAD_BODIES = [
    (b"not json", "not valid UTF-8 JSON"),
    (b"\xff\xfe", "not valid UTF-8 JSON"),
    (b"[1, 2]", "must be a JSON object, got list"),
    (_drawing_body(width=...), "missing ['width']"),
    (_drawing_body(extra=1), "unknown ['extra']"),
    (_drawing_body(width=28), "width must be the integer 140, got 28"),
    (_drawing_body(height="140"), "height must be the integer 140, got '140'"),
    (_drawing_body(width=True), "width must be the integer 140, got True"),
    (_drawing_body(pixels=[0] * 10), "pixels must be a base64 string, got list"),
    (_drawing_body(pixels="@@@@"), "pixels is not valid base64"),
    (_drawing_body(pixels=base64.b64encode(b"\0" * 100).decode()),
     "must hold 140x140 = 19600 bytes, got 100"),
    (json.dumps({"width": 140, "height": 140, "pixels": None}).encode(),
     "pixels must be a base64 string, got NoneType"),
]


@pytest.mark.parametrize("body, reason", BAD_BODIES)
def test_a_bad_body_gets_a_400_with_its_reason(server, body, reason):
    status, kind, answer = _request(server, "POST", "/api/predict", body, JSON)
    assert status == 400 and kind == "application/json"
    assert reason in json.loads(answer)["error"]


@pytest.mark.parametrize("method, path, body, headers, status, reason", [
    ("POST", "/api/predict", _drawing_body(), {"Content-Type": "text/plain"}, 400,
     "Content-Type must be application/json, got 'text/plain'"),
    ("POST", "/api/predict", _drawing_body(), {}, 400, "Content-Type must be"),
    ("GET", "/etc/passwd", None, {}, 404, "no such page: '/etc/passwd'"),
    ("GET", "/../../etc/passwd", None, {}, 404, "no such page"),
    ("POST", "/nowhere", b"{}", JSON, 404, "no such page"),
    ("GET", "/api/predict", None, {}, 405, "/api/predict takes POST"),
    ("POST", "/", b"{}", JSON, 405, "/ takes GET"),
    ("DELETE", "/", None, {}, 405, "method DELETE is not allowed"),
    ("PUT", "/api/predict", b"{}", JSON, 405, "method PUT is not allowed"),
    ("GET", "/", None, {"Host": "evil.example:80"}, 400, "Host must be 127.0.0.1:"),
])
def test_wrong_methods_paths_and_headers_are_refused_with_a_reason(
        server, method, path, body, headers, status, reason):
    got, kind, answer = _request(server, method, path, body, headers)
    assert got == status and kind == "application/json"
    assert reason in json.loads(answer)["error"]


def _raw(server, data, read_timeout=20):
    """Send bytes as they are, and return what the server answers (up to its close)."""
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=20) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(read_timeout)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _head(port, length_line):
    return (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\n{length_line}\r\n").encode()


def test_sizes_are_checked_before_the_body_is_read(server):
    port = server.server_address[1]
    answer = _raw(server, _head(port, f"Content-Length: {MAX_BODY + 1}\r\n") + b"x" * 100)
    assert answer.startswith(b"HTTP/1.0 413") and b"over the 65536-byte limit" in answer
    answer = _raw(server, _head(port, "Content-Length: 10**9\r\n"))
    assert answer.startswith(b"HTTP/1.0 400") and b"Content-Length must be a number" in answer
    answer = _raw(server, _head(port, ""))
    assert answer.startswith(b"HTTP/1.0 400") and b"Content-Length must be a number" in answer
    answer = _raw(server, _head(port, "Content-Length: 500\r\n") + b'{"width": 1')
    assert answer.startswith(b"HTTP/1.0 400") and b"the body ended after 11 of 500" in answer
    answer = _raw(server, _head(port, "Transfer-Encoding: chunked\r\n") + b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 400") and b"chunked bodies are not accepted" in answer


def test_garbage_requests_get_an_error_and_the_server_keeps_serving(server):
    for junk in [b"\x00\x01\x02 garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                 b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n"]:
        answer = _raw(server, junk)
        assert b"Traceback" not in answer
        if answer.startswith(b"HTTP/"):
            assert answer.split(b" ")[1][:1] in (b"4", b"5"), answer[:80]
        assert b'{"error": "' in answer, answer[:200]
    status, _, _ = _request(server, "GET", "/api/model")
    assert status == 200


# ---- end to end, in a real browser ------------------------------------------------------------

def _ellipse(cx, cy, rx, ry, n=40):
    return [(cx + rx * math.sin(2 * math.pi * i / n), cy - ry * math.cos(2 * math.pi * i / n))
            for i in range(n + 1)]


def _polyline(*corners, step=6):
    points = [corners[0]]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        k = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        points += [(x0 + (x1 - x0) * i / k, y0 + (y1 - y0) * i / k) for i in range(1, k + 1)]
    return points


# strokes in the 280 x 280 pad's coordinates, the way a person draws each digit
DIGITS = [
    (0, "mouse", [_ellipse(140, 140, 60, 95)]),
    (1, "pen", [_polyline((120, 70), (145, 45), (145, 235))]),
    (2, "mouse", [_polyline((85, 90), (100, 60), (140, 45), (180, 60), (195, 95), (180, 135),
                            (85, 235), (200, 235))]),
    (3, "touch", [_polyline((85, 60), (140, 40), (190, 70), (185, 115), (135, 135), (190, 155),
                            (195, 200), (140, 235), (85, 215))]),
    (4, "mouse", [_polyline((170, 235), (170, 45), (80, 170), (205, 170))]),
    (7, "pen", [_polyline((80, 50), (200, 50), (120, 235))]),
    (8, "mouse", [_ellipse(140, 90, 45, 45), _ellipse(140, 185, 55, 50)]),
    (9, "touch", [_ellipse(140, 95, 50, 50), _polyline((190, 95), (185, 235))]),
]

SETTLED = ("document.body.dataset.state === 'idle' && "
           "document.body.dataset.version === document.body.dataset.predictedVersion")


def test_drawn_digits_are_recognized_in_headless_chromium(server, tmp_path):
    from browser import Browser
    chromium = oracles.program("chromium")
    with Browser(chromium, tmp_path / "profile") as page:
        page.call("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=1)
        page.open(server.url)
        page.wait_for("document.body.dataset.state === 'idle'")
        assert page.evaluate("document.querySelectorAll('#filters canvas').length") == 8
        left, top = page.evaluate("(() => { const r = document.getElementById('pad')"
                                  ".getBoundingClientRect(); return [r.left, r.top]; })()")
        seen = []
        for digit, pointer, strokes in DIGITS:
            page.evaluate("document.getElementById('clear').click()")
            for stroke in strokes:
                page.stroke([(x + left, y + top) for x, y in stroke], pointer=pointer)
            page.wait_for(SETTLED)
            assert page.evaluate("document.body.dataset.pointer") == pointer
            seen.append((digit, int(page.evaluate(
                "document.getElementById('prediction').textContent"))))
            bars = page.evaluate("[...document.querySelectorAll('.bar .value')]"
                                 ".map(e => parseFloat(e.textContent))")
            assert len(bars) == 10 and abs(sum(bars) - 100) < 1.0 and \
                int(np.argmax(bars)) == seen[-1][1]
            assert page.evaluate("document.querySelectorAll('#maps canvas').length") == 8
        assert seen == [(d, d) for d, _, _ in DIGITS]
        shot = page.screenshot(tmp_path / "demo.png")
    with open(shot, "rb") as f:
        assert f.read(4) == b"\x89PNG"
    if os.environ.get("MGP_UPDATE_SCREENSHOTS") == "1":  # refreshes the picture in the docs
        shutil.copy(shot, os.path.join(ROOT, "docs", "images", "demo.png"))


def _start_demo(model_path):
    import subprocess
    import sys
    process = subprocess.Popen(
        [sys.executable, "-m", "mgp.demo", "--port", "0", "--samples", "2000", "--epochs", "1",
         "--model", str(model_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": ROOT})
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("draw a digit at "):
            return process, lines, line.split()[4]
    process.wait()
    raise AssertionError(f"the demo exited: {lines}")


def test_python_m_mgp_demo_trains_saves_serves_and_loads_the_saved_model_next_time(tmp_path):
    import signal
    import urllib.request
    path = tmp_path / "digits.weights.h5"
    for run in range(2):
        process, lines, url = _start_demo(path)
        try:
            assert url.startswith("http://127.0.0.1:")
            info = json.loads(urllib.request.urlopen(url + "api/model", timeout=20).read())
            assert info["parameters"] == 5258
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0
            process.stdout.close()
        if run == 0:  # trained and saved
            assert "(training)" in lines[0]
            assert any(line.startswith("32/32 ━") for line in lines)  # fit's progress
            assert any(line.startswith("test accuracy: ") for line in lines)
            assert path.exists() and info["test_accuracy"] > 0.5
        else:  # loaded what the first run saved
            assert "(training)" not in lines[0] and info["test_accuracy"] is None
