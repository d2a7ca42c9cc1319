"""SIGKILL at random moments of repeated saves: the file always loads and is one saved state.

A child process saves the weights of a model of about 6 MB again and again, every weight
filled with the save's counter; the test kills it with SIGKILL at a random moment (a small
server script forks each saving process, so a kill costs no interpreter start), loads the
file, and checks that every weight holds one and the same counter value (a state that was saved
whole, never a mix or a partial file), and that the file never goes back in time.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from mgp import layers
from mgp.models import Sequential

KILLS = 40

# Imports mgp once, then for each base number read from stdin forks a worker that saves again
# and again (counter base+1, base+2, ...), prints the worker's pid, and reports how it ended.
SERVER = textwrap.dedent("""
    import os
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[2])
    from mgp import layers
    from mgp.models import Sequential

    path = sys.argv[1]
    model = Sequential([layers.Input((512,)), layers.Dense(1024), layers.Dense(1024),
                        layers.Dense(10)])
    for line in sys.stdin:
        counter = int(line)
        pid = os.fork()
        if pid == 0:
            while True:
                counter += 1
                for w in model.weights:
                    w.assign(np.full(w.shape, counter, np.float32))
                model.save_weights(path)
        print(pid, flush=True)
        print(os.waitpid(pid, 0)[1], flush=True)
""")


def model():
    return Sequential([layers.Input((512,)), layers.Dense(1024), layers.Dense(1024),
                       layers.Dense(10)])


def test_sigkill_during_repeated_saves_never_breaks_the_file(tmp_path):
    path = tmp_path / "ckpt.weights.h5"
    m = model()
    for w in m.weights:
        w.assign(np.zeros(w.shape, np.float32))
    m.save_weights(path)
    assert os.path.getsize(path) > 5e6
    script = tmp_path / "saver.py"
    script.write_text(SERVER)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    server = subprocess.Popen([sys.executable, str(script), str(path), root],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    # kill at random moments over about three saves, timed here and now: a loaded machine saves
    # slower, and the kills still spread over the same share of a save
    times = []
    for _ in range(3):
        start = time.perf_counter()
        m.save_weights(tmp_path / "timing.weights.h5")
        times.append(time.perf_counter() - start)
    window = 3 * max(0.1, float(np.median(times)))
    rng = np.random.default_rng()
    last, mid_write, moved = 0, 0, 0
    try:
        for k in range(1, KILLS + 1):
            base = k * 100_000
            server.stdin.write(f"{base}\n")
            server.stdin.flush()
            worker = int(server.stdout.readline())
            time.sleep(rng.uniform(0.0, window))
            os.kill(worker, signal.SIGKILL)
            status = int(server.stdout.readline())
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

            m.load_weights(path)  # raises if the file were partial or damaged
            values = {float(v) for w in m.get_weights() for v in (w.min(), w.max())}
            assert len(values) == 1, f"kill {k}: a mix of saved states {sorted(values)}"
            value = int(values.pop())
            assert value == last or base < value < base + 100_000, f"kill {k}: {value}"
            moved += value != last
            last = value
            leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
            mid_write += bool(leftovers)  # killed while writing the next file
            for p in leftovers:
                os.remove(tmp_path / p)
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    print(f"\n{KILLS} kills: {mid_write} during a write, the file advanced {moved} times")
    assert moved >= KILLS // 2 and mid_write >= 5
