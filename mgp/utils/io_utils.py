"""Where mgp's messages go: to standard output while interactive logging is on (the default),
else to Python's `logging` (the logger "mgp", level INFO), as Keras sends them to absl's
logging; the progress bar follows the same switch."""
import logging
import sys

_interactive = True


def enable_interactive_logging():
    """Show progress bars and messages on standard output (the default)."""
    global _interactive
    _interactive = True


def disable_interactive_logging():
    """Send progress and messages to the logger "mgp" instead (for jobs on a server)."""
    global _interactive
    _interactive = False


def is_interactive_logging_enabled():
    """Whether progress and messages go to standard output (True) or to the logger."""
    return _interactive


def print_msg(message, line_break=True):
    """`message` on standard output, or as a log record when interactive logging is off."""
    if _interactive:
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        logging.getLogger("mgp").info(message)


class LogFile:
    """A file-like object whose whole lines become log records of the logger "mgp"."""

    def __init__(self):
        self._pending = ""

    def write(self, text):
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            if line:
                logging.getLogger("mgp").info(line)

    def flush(self):
        pass
